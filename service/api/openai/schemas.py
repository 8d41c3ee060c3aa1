"""Request bodies of the OpenAI-compatible face, validated by hand so every error carries RAGFlow's message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request

from service.api import body as bodies
from service.api.openai.errors import ARGUMENT, invalid
from service.domain.llms import SAMPLING_RANGES, sampling_error
from service.domain.metadata import compile_condition
from service.errors import Invalid

MAX_EMBEDDING_INPUTS = 2048
DROPPED_ROLES = ("system", "developer")  # the assistant's own system prompt is used


BODY = bodies.BodyMessages(
    empty="The request body must be a JSON object.",
    malformed="The request body is not valid JSON.",
    not_object="The request body must be a JSON object, not {kind}.",
)


async def json_object(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """A failure is `Invalid`: HTTP 400 with RAGFlow code 101 on this face."""
    return await bodies.json_object(request, BODY)


@dataclass
class ReferenceMetadata:
    include: bool = False
    fields: list[str] | None = None


@dataclass
class ChatRequest:
    model: str
    question: str
    history: list[tuple[str, str]]
    stream: bool = False
    reference: bool = False
    reference_metadata: ReferenceMetadata = field(default_factory=ReferenceMetadata)
    metadata_condition: dict[str, Any] | None = None  # RAGFlow's filter on the documents' meta_fields
    sampling: dict[str, Any] = field(default_factory=dict)


def model_of(body: dict[str, Any], *required: str) -> str:
    """The body's `model`, once `model` and the other `required` keys are all there (RAGFlow's message)."""
    missing = [key for key in ("model", *required) if key not in body]
    if missing:
        message = "required argument are missing: " + "".join(f"{key}; " for key in missing)
        raise invalid(message, param=missing[0], ragflow_code=ARGUMENT, code="missing_required_parameter")
    model = body["model"]
    if not isinstance(model, str) or not model.strip():
        raise invalid("`model` must be a non-empty string.", param="model", ragflow_code=ARGUMENT)
    return model.strip()


def parse_chat(body: dict[str, Any]) -> ChatRequest:
    model = model_of(body, "messages")
    question, history = conversation(body["messages"])
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise invalid("`stream` must be a boolean.", param="stream", ragflow_code=ARGUMENT)
    options = extra_options(body)
    return ChatRequest(
        model=model,
        question=question,
        history=history,
        stream=bool(stream),
        reference=_reference_flag(options),
        reference_metadata=_reference_metadata(options),
        metadata_condition=_metadata_condition(options),
        sampling=sampling(body),
    )


def extra_options(body: dict[str, Any]) -> dict[str, Any]:
    """RAGFlow reads a literal `extra_body` key; the OpenAI SDKs flatten `extra_body=` into the top level.

    Both are honoured; a key given in both places takes the nested value.
    """
    nested = body.get("extra_body")
    if nested is None:
        nested = {}
    if not isinstance(nested, dict):
        raise invalid("extra_body must be an object.", param="extra_body")
    keys = ("reference", "reference_metadata", "metadata_condition")
    return {key: nested[key] if key in nested else body.get(key) for key in keys}


def _reference_flag(options: dict[str, Any]) -> bool:
    value = options["reference"]
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid("reference must be a boolean.", param="reference")
    return value


def _reference_metadata(options: dict[str, Any]) -> ReferenceMetadata:
    value = options["reference_metadata"]
    if value is None:
        return ReferenceMetadata()
    if not isinstance(value, dict):
        raise invalid("reference_metadata must be an object.", param="reference_metadata")
    include = value.get("include", False)
    if not isinstance(include, bool):
        raise invalid("reference_metadata.include must be a boolean.", param="reference_metadata")
    fields = value.get("fields")
    if fields is not None and (not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)):
        raise invalid("reference_metadata.fields must be an array.", param="reference_metadata")
    return ReferenceMetadata(include, fields)


def _metadata_condition(options: dict[str, Any]) -> dict[str, Any] | None:
    value = options["metadata_condition"]
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid("metadata_condition must be an object.", param="metadata_condition")
    try:
        compile_condition(value)  # rejected now, not mid-stream
    except Invalid as exc:
        raise invalid(exc.message, param="metadata_condition", ragflow_code=ARGUMENT) from None
    return value


def message_text(content: Any, index: int) -> str:
    """A string, a list of `{type: "text", text}` parts, or null (an assistant turn that only called tools)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise invalid(
                    f"Unsupported content part `{kind}` in messages[{index}]: only text parts are accepted.",
                    param=f"messages[{index}].content",
                )
            texts.append(part["text"])
        return "\n".join(texts)
    raise invalid(
        f"messages[{index}].content must be a string or a list of text parts.", param=f"messages[{index}].content"
    )


def conversation(messages: Any) -> tuple[str, list[tuple[str, str]]]:
    """The question (the trailing user turn) and the earlier (user, assistant) pairs.

    System and developer messages are dropped (the assistant's system prompt is used), then leading
    assistant messages (a greeting). Consecutive messages of one role are joined by a blank line.
    """
    if not isinstance(messages, list) or not messages:
        raise invalid("You have to provide messages.", param="messages")
    turns: list[tuple[str, str]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise invalid(f"messages[{index}] must be an object with a `role`.", param=f"messages[{index}]")
        role = message["role"]
        if role in DROPPED_ROLES:
            continue
        if role not in ("user", "assistant"):
            raise invalid(
                f"Unsupported role `{role}` in messages[{index}]: use system, user or assistant.",
                param=f"messages[{index}].role",
            )
        text = message_text(message.get("content"), index)
        if turns and turns[-1][0] == role:
            turns[-1] = (role, f"{turns[-1][1]}\n\n{text}")
        elif turns or role == "user":
            turns.append((role, text))
    if not turns or turns[-1][0] != "user":
        raise invalid("The last content of this conversation is not from user.", param="messages")
    question = turns[-1][1]
    if not question.strip():
        raise invalid("The last user message is empty.", param="messages")
    earlier = turns[:-1]
    history = [(earlier[i][1], earlier[i + 1][1]) for i in range(0, len(earlier) - 1, 2)]
    return question, history


def sampling(body: dict[str, Any]) -> dict[str, Any]:
    """temperature, top_p, penalties and max_tokens (or max_completion_tokens): overrides of llm_setting."""
    chosen: dict[str, Any] = {}
    for key in (*SAMPLING_RANGES, "max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if value is None:
            continue
        if problem := sampling_error(key, value):
            raise invalid(problem, param=key, ragflow_code=ARGUMENT)
        chosen["max_tokens" if key == "max_completion_tokens" else key] = value
    n = body.get("n")
    if n is not None and n != 1:
        raise invalid("Only `n` = 1 is supported.", param="n", ragflow_code=ARGUMENT)
    return chosen


@dataclass
class EmbeddingRequest:
    model: str
    texts: list[str]
    encoding_format: str
    dimensions: int | None


def parse_embeddings(body: dict[str, Any]) -> EmbeddingRequest:
    model = model_of(body, "input")
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise invalid("`encoding_format` must be `float` or `base64`.", param="encoding_format", ragflow_code=ARGUMENT)
    dimensions = body.get("dimensions")
    if dimensions is not None and (isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1):
        raise invalid("`dimensions` must be a positive integer.", param="dimensions", ragflow_code=ARGUMENT)
    return EmbeddingRequest(model, embedding_texts(body["input"]), encoding, dimensions)


def embedding_texts(value: Any) -> list[str]:
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not texts:
        raise invalid("`input` must be a non-empty string or a non-empty list of strings.", param="input")
    if any(isinstance(item, int | list) and not isinstance(item, bool) for item in texts):
        raise invalid("Token arrays are not supported as `input`: send text.", param="input")
    if not all(isinstance(item, str) for item in texts):
        raise invalid("`input` must be a string or a list of strings.", param="input")
    if any(not item.strip() for item in texts):
        raise invalid("`input` must not contain empty strings.", param="input")
    if len(texts) > MAX_EMBEDDING_INPUTS:
        raise invalid(f"`input` may hold at most {MAX_EMBEDDING_INPUTS} texts.", param="input")
    return list(texts)
