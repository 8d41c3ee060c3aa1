"""Runs inside a client-only venv with ragflow-sdk installed: drives a live Nectar through the unchanged SDK.

usage: python ragflow_scenario.py <base_url> <api_key>; exits non-zero (with the failing assert) on any mismatch.
"""

import itertools
import json
import sys
from importlib.metadata import version
from typing import Any

from ragflow_sdk import RAGFlow

BEES = b"Honey bees collect nectar and turn it into honey inside the hive.\n\nThe queen lays the eggs."
RUST = b"Iron rusts when it reacts with oxygen and water, forming iron oxide."


def main(base_url: str, key: str) -> dict[str, Any]:
    rag = RAGFlow(api_key=key, base_url=base_url)
    dataset = rag.create_dataset(name="sdk-kb", description="made by ragflow-sdk")
    assert dataset.embedding_model == "all-MiniLM-L6-v2@Builtin" and dataset.chunk_method == "naive"
    dataset.update({"name": "sdk-kb-renamed"})
    assert dataset.name == "sdk-kb-renamed"
    assert [d.id for d in rag.list_datasets(name="sdk-kb-renamed")] == [dataset.id]

    docs = dataset.upload_documents(
        [{"display_name": "bees.txt", "blob": BEES}, {"display_name": "rust.txt", "blob": RUST}]
    )
    ids = [doc.id for doc in docs]
    finished = dataset.parse_documents(ids)
    assert sorted(state for _, state, _, _ in finished) == ["DONE", "DONE"], finished

    bees = dataset.list_documents(id=ids[0])[0]
    assert bees.run == "DONE" and bees.chunk_count >= 1 and bees.progress == 1.0
    assert bees.download() == BEES
    bees.update({"name": "honey-bees.txt"})
    assert bees.name == "honey-bees.txt"
    assert {d.name for d in dataset.list_documents()} == {"honey-bees.txt", "rust.txt"}
    answers = chat_scenario(rag, dataset.id)

    chunks = bees.list_chunks()
    assert chunks and "Honey bees" in chunks[0].content
    added = bees.add_chunk(content="Varroa mites are parasites of honey bee colonies.", important_keywords=["varroa"])
    assert added.important_keywords == ["varroa"]
    hits = rag.retrieve(dataset_ids=[dataset.id], question="varroa mites parasites")
    assert hits[0].id == added.id and hits[0].similarity > 0 and hits[0].document_name == "honey-bees.txt"
    assert hits[0].vector_similarity > 0 and hits[0].term_similarity > 0
    added.update({"content": "Varroa destructor mites weaken colonies.", "available": False})
    hidden = rag.retrieve(dataset_ids=[dataset.id], question="varroa destructor")
    assert added.id not in [hit.id for hit in hidden]
    bees.delete_chunks(ids=[chunks[0].id])
    assert chunks[0].id not in [c.id for c in bees.list_chunks()]

    dataset.async_parse_documents([ids[1]])
    dataset.async_cancel_parse_documents([ids[1]])
    rust = dataset.list_documents(id=ids[1])[0]
    assert rust.run in ("CANCEL", "DONE"), rust.run

    dataset.delete_documents(ids=[ids[1]])
    assert [d.id for d in dataset.list_documents()] == [ids[0]]
    rag.delete_datasets(ids=[dataset.id])
    try:
        rag.get_dataset(name="sdk-kb-renamed")
        raise AssertionError("deleted dataset still listed")
    except Exception as exc:
        assert "lacks permission" in str(exc) or "not found" in str(exc), exc
    return {"ok": True, "chunks_seen": len(chunks), "cancel_state": rust.run, "chat_answers": answers}


def chat_scenario(rag: RAGFlow, dataset_id: str) -> int:
    """Chats, sessions and answers; returns how many answers the session holds at the end.

    SDK 0.27 speaks the 0.27 shapes. SDK 0.22 reads `GET /chats` as a list (0.27 sends {"chats", "total"}), so
    it cannot list chats here; and it expects cumulative stream answers, which it gets by passing `legacy=True`.
    """
    modern = int(version("ragflow-sdk").split(".")[1]) >= 25
    chat = rag.create_chat("sdk-chat", dataset_ids=[dataset_id])
    assert chat.dataset_ids == [dataset_id] and chat.llm_id == "nectar-extractive@Builtin", chat
    if modern:
        assert [c.id for c in rag.list_chats(name="sdk-chat")] == [chat.id]
        assert rag.get_chat(chat.id).name == "sdk-chat"
        chat.update({"prompt_config": {"prologue": "Ask me about bees."}})  # PATCH, deep-merged
        prologue = "Ask me about bees."
    else:
        chat.update({"name": "sdk-chat-022"})  # PUT
        prologue = "Hi! I'm your assistant. What can I do for you?"  # what 0.22's create_chat sends as `opener`
    session = chat.create_session()
    assert session.messages == [{"role": "assistant", "content": prologue}], session.messages

    [answer] = list(session.ask("How do bees make honey?", stream=False))
    assert "[ID:0]" in answer.content and "Honey bees" in answer.content, answer.content
    assert answer.reference[0]["document_name"] == "honey-bees.txt", answer.reference

    if modern:
        pieces = list(session.ask("Tell me about the queen bee", stream=True))
        streamed = "".join(piece.content for piece in pieces)  # deltas; the final piece is "" plus the reference
        assert pieces[-1].content == "" and pieces[-1].reference, pieces[-1]
    else:
        pieces = list(session.ask("Tell me about the queen bee", stream=True, legacy=True))
        streamed = pieces[-1].content  # cumulative: the last piece is the whole answer
        assert all(later.content.startswith(earlier.content) for earlier, later in itertools.pairwise(pieces))
    assert "[ID:0]" in streamed and "queen" in streamed, streamed
    assert len(pieces) > 2

    session.update({"name": "about bees"})
    [listed] = chat.list_sessions()
    assert listed.id == session.id and listed.name == "about bees"
    assert [m["role"] for m in listed.messages] == ["assistant", "user", "assistant", "user", "assistant"]
    assert listed.messages[2]["content"] == answer.content
    chat.delete_sessions(ids=[session.id])
    assert chat.list_sessions() == []
    rag.delete_chats(ids=[chat.id])
    return (len(listed.messages) - 1) // 2


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
