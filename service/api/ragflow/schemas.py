"""Request bodies and query strings of the RAGFlow family, validated the way RAGFlow's pydantic models do."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from litestar import Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from service.api.body import BodyMessages, json_object
from service.domain.pages import Page
from service.errors import Invalid

M = TypeVar("M", bound=BaseModel)
MAX_PAGE_SIZE = 100

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
ChunkMethod = Literal[
    "naive",
    "book",
    "email",
    "laws",
    "manual",
    "one",
    "paper",
    "picture",
    "presentation",
    "qa",
    "table",
    "tag",
    "resume",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DatasetCreate(Strict):
    name: Name
    avatar: str | None = Field(default=None, max_length=65535)
    description: str | None = Field(default=None, max_length=65535)
    embedding_model: str | None = Field(default=None, max_length=255)
    permission: Literal["me", "team"] = "me"
    chunk_method: ChunkMethod | None = None
    parser_config: dict[str, Any] | None = None
    pagerank: int = Field(default=0, ge=0, le=100)
    auto_metadata_config: dict[str, Any] | None = None
    ext: dict[str, Any] | None = None

    @field_validator("embedding_model")
    @classmethod
    def model_format(cls, value: str | None) -> str | None:
        if value is not None and ("@" not in value or not all(value.partition("@")[::2])):
            raise ValueError("embedding model identifier must follow <model_name>@<provider> format")
        return value


class DatasetUpdate(DatasetCreate):
    name: Name | None = None  # type: ignore[assignment]
    permission: Literal["me", "team"] | None = None  # type: ignore[assignment]
    pagerank: int | None = Field(default=None, ge=0, le=100)  # type: ignore[assignment]
    language: str | None = None


class DeleteIds(Strict):
    ids: list[str] | None = None
    delete_all: bool = False


class DocumentUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = None
    chunk_method: ChunkMethod | None = None
    parser_config: dict[str, Any] | None = None
    meta_fields: dict[str, Any] | None = None
    enabled: int | None = None


def _message(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "body"
        message = item["msg"].removeprefix("Value error, ")
        value = str(item.get("input", ""))[:128] if item["type"] != "missing" else ""
        lines.append(f"Field: <{field}> - Message: <{message}> - Value: <{value}>")
    return "\n".join(lines)


def validated(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise Invalid(_message(error)) from None


BODY = BodyMessages(
    empty="Unsupported content type: Expected application/json, got empty body",
    malformed="Malformed JSON syntax: Missing commas/brackets or invalid encoding",
    not_object="Invalid request payload: expected object, got {kind}",
)


async def json_body(request: Request[Any, Any, Any], required: bool = True) -> dict[str, Any]:
    """The body as a JSON object, refused in RAGFlow's words; an empty body is `{}` unless `required`."""
    return await json_object(request, BODY, required)


def list_of_strings(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Invalid(f"`{key}` should be a list of strings")
    return value


def page_of(request: Request[Any, Any, Any], strict: bool = False) -> Page:
    """RAGFlow's `page`/`page_size`: a bad or non-positive size silently means 30 (with `strict`, a size below
    1 is refused as the dataset list's pydantic model does); above 100 is an error."""
    query = request.query_params
    page = _int(query.get("page"), 1)
    size = _int(query.get("page_size"), 30)
    if strict and query.get("page_size") is not None and size < 1:
        raise Invalid(
            "Field: <page_size> - Message: <Input should be greater than or equal to 1> - "
            f"Value: <{query.get('page_size')}>"
        )
    if size > MAX_PAGE_SIZE:
        raise Invalid(f"page_size must be less than or equal to {MAX_PAGE_SIZE}")
    return Page.numbered(page, size if size >= 1 else 30)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() not in ("false", "0", "no", "")


def orderby(request: Request[Any, Any, Any], allowed: tuple[str, ...]) -> tuple[str, bool]:
    value = request.query_params.get("orderby") or "create_time"
    if value not in allowed:
        raise Invalid(f"Field: <orderby> - Message: <Input should be {' or '.join(allowed)}> - Value: <{value}>")
    return value, flag(request.query_params.get("desc"), True)
