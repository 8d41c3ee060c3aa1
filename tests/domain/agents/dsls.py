"""Agent DSLs in RAGFlow's shape, shared by the engine, HTTP and SDK tests."""

from __future__ import annotations

import copy
from typing import Any

STARTER_SYS_PROMPT = (
    "# Role\n\nYou are the **Docs QA Agent**, a specialized knowledge base assistant responsible for providing "
    "accurate answers based strictly on the connected documentation repository.\n\n**Always do these:**\n\n"
    "- Use the Retrieval tool for every question\n"
)


def starter(kb_ids: list[str], llm_id: str = "") -> dict[str, Any]:
    """RAGFlow's `agent/templates/your_starter_dataset_chatbot.json` DSL (its graph cut to the nodes' names):
    Begin → Agent with a Retrieval tool → Message."""
    return {
        "components": {
            "Agent:StalePandasDream": {
                "downstream": ["Message:BrownPugsStick"],
                "obj": {
                    "component_name": "Agent",
                    "params": {
                        "delay_after_error": 1,
                        "description": "",
                        "exception_comment": "",
                        "exception_default_value": "",
                        "exception_goto": [],
                        "exception_method": None,
                        "frequencyPenaltyEnabled": False,
                        "frequency_penalty": 0.7,
                        "llm_id": llm_id,
                        "maxTokensEnabled": False,
                        "max_retries": 3,
                        "max_rounds": 5,
                        "max_tokens": 256,
                        "mcp": [],
                        "message_history_window_size": 12,
                        "outputs": {"content": {"type": "string", "value": ""}},
                        "presencePenaltyEnabled": False,
                        "presence_penalty": 0.4,
                        "prompts": [{"content": "The user query is {sys.query}", "role": "user"}],
                        "sys_prompt": STARTER_SYS_PROMPT,
                        "temperature": 0.1,
                        "temperatureEnabled": True,
                        "tools": [
                            {
                                "component_name": "Retrieval",
                                "name": "Retrieval",
                                "params": {
                                    "cross_languages": [],
                                    "description": "This is  a technical docs knowledge bases.",
                                    "empty_response": "",
                                    "kb_ids": kb_ids,
                                    "keywords_similarity_weight": 0.7,
                                    "outputs": {"formalized_content": {"type": "string", "value": ""}},
                                    "rerank_id": "",
                                    "similarity_threshold": 0.2,
                                    "top_k": 1024,
                                    "top_n": 8,
                                    "use_kg": False,
                                },
                                "id": "Retrieval:StalePandasDream",
                            }
                        ],
                        "topPEnabled": False,
                        "top_p": 0.3,
                        "user_prompt": "",
                        "visual_files_var": "",
                    },
                },
                "upstream": ["begin"],
            },
            "Message:BrownPugsStick": {
                "downstream": [],
                "obj": {"component_name": "Message", "params": {"content": ["{Agent:StalePandasDream@content}"]}},
                "upstream": ["Agent:StalePandasDream"],
            },
            "begin": {
                "downstream": ["Agent:StalePandasDream"],
                "obj": {"component_name": "Begin", "params": {}},
                "upstream": [],
            },
        },
        "globals": {"sys.conversation_turns": 0, "sys.files": [], "sys.query": "", "sys.user_id": ""},
        "graph": {
            "edges": [],
            "nodes": [
                {"data": {"label": "Begin", "name": "begin"}, "id": "begin", "type": "beginNode"},
                {"data": {"label": "Agent", "name": "Docs QA Agent"}, "id": "Agent:StalePandasDream"},
                {"data": {"label": "Message", "name": "Message_0"}, "id": "Message:BrownPugsStick"},
            ],
        },
        "history": [],
        "messages": [],
        "path": [],
        "retrieval": [],
    }


def component(name: str, params: dict[str, Any], downstream: list[str], upstream: list[str]) -> dict[str, Any]:
    return {"obj": {"component_name": name, "params": params}, "downstream": downstream, "upstream": upstream}


def kb_qa(kb_ids: list[str], llm_id: str = "", prologue: str = "Ask me about bees.") -> dict[str, Any]:
    """A knowledge-base Q&A canvas as RAGFlow's editor saves one: Begin → Retrieval → LLM → Message."""
    return {
        "components": {
            "begin": component("Begin", {"prologue": prologue, "mode": "conversational"}, ["Retrieval:Bees"], []),
            "Retrieval:Bees": component(
                "Retrieval",
                {"kb_ids": kb_ids, "query": "sys.query", "top_n": 4, "similarity_threshold": 0.1},
                ["LLM:Answer"],
                ["begin"],
            ),
            "LLM:Answer": component(
                "LLM",
                {
                    "llm_id": llm_id,
                    "sys_prompt": "Answer from the knowledge base.\n{Retrieval:Bees@formalized_content}",
                    "prompts": [{"role": "user", "content": "{sys.query}"}],
                    "temperature": 0.1,
                },
                ["Message:Reply"],
                ["Retrieval:Bees"],
            ),
            "Message:Reply": component("Message", {"content": ["{LLM:Answer@content}"]}, [], ["LLM:Answer"]),
        },
        "globals": {"sys.conversation_turns": 0, "sys.files": [], "sys.query": "", "sys.user_id": ""},
        "graph": {"nodes": [{"id": "LLM:Answer", "data": {"label": "LLM", "name": "Answerer"}}], "edges": []},
        "history": [],
        "messages": [],
        "path": [],
        "retrieval": [],
    }


def with_component(dsl: dict[str, Any], component_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(dsl)
    changed["components"][component_id] = spec
    return changed
