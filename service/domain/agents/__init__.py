"""RAGFlow agents: a canvas of components (a JSON DSL) that takes a question through retrieval, LLM calls and
branches to an answer.

- `dsl`: reads and checks a DSL (unknown component types, links and references to missing components, cycles).
- `components`, `branching`, `agent_tools`: the components, one small class each, with RAGFlow's parameter names.
- `engine`: runs a canvas as a stream of RAGFlow's events; `runs`: one recorded turn of an agent's session.
- `store`: agents and their sessions (an agent is an Assistant with an `AgentCanvas`).
"""
