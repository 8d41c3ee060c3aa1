"""Runs inside a client-only venv with ragflow-sdk installed: drives a live Nectar through the unchanged SDK.

usage: python ragflow_scenario.py <base_url> <api_key>; exits non-zero (with the failing assert) on any mismatch.
"""

import json
import sys

from ragflow_sdk import RAGFlow

BEES = b"Honey bees collect nectar and turn it into honey inside the hive.\n\nThe queen lays the eggs."
RUST = b"Iron rusts when it reacts with oxygen and water, forming iron oxide."


def main(base_url: str, key: str) -> dict:
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
    return {"ok": True, "chunks_seen": len(chunks), "cancel_state": rust.run}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
