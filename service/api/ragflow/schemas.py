"""Request bodies and query strings of the RAGFlow family, validated the way RAGFlow's pydantic models do."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Annotated, Any, Literal, TypeVar

from litestar import Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from service.api.body import BodyMessages, json_object
from service.api.ragflow.metadata_schemas import AutoMetadataConfig, flat_meta_fields
from service.api.ragflow.parser_config import HasParserConfig
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


AVATAR_TYPES = ("image/jpeg", "image/png")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DatasetCreate(Strict, HasParserConfig):
    name: Name
    avatar: str | None = Field(default=None, max_length=65535)
    description: str | None = Field(default=None, max_length=65535)
    embedding_model: str | None = Field(default=None, max_length=255)
    permission: Literal["me", "team"] = "me"
    chunk_method: ChunkMethod = "naive"  # null is refused with the list of methods, as RAGFlow does
    auto_metadata_config: AutoMetadataConfig | None = None
    ext: dict[str, Any] | None = None
    # Our extension: the weight a retrieval over this dataset uses when it names none (null: the server's default).
    vector_similarity_weight: float | None = Field(default=None, ge=0.0, le=1.0, allow_inf_nan=False)

    @field_validator("avatar")
    @classmethod
    def image_data_url(cls, value: str | None) -> str | None:
        """A dataset avatar is a `data:image/png|jpeg;base64,...` URL, as RAGFlow requires."""
        if value is None:
            return value
        prefix, comma, _ = value.partition(",")
        if not comma:
            raise ValueError("Missing MIME prefix. Expected format: data:<mime>;base64,<data>")
        if not prefix.startswith("data:"):
            raise ValueError("Invalid MIME prefix format. Must start with 'data:'")
        if prefix[5:].split(";")[0] not in AVATAR_TYPES:
            raise ValueError(f"Unsupported MIME type. Allowed: {list(AVATAR_TYPES)}")
        return value

    @field_validator("embedding_model", mode="before")
    @classmethod
    def stripped(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("embedding_model")
    @classmethod
    def model_format(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if "@" not in value:
            raise ValueError("Embedding model identifier must follow <model_name>@<provider> format")
        if not all(value.partition("@")[::2]):
            raise ValueError("Both model_name and provider must be non-empty strings")
        return value


class DatasetUpdate(DatasetCreate):
    """Every field optional; an explicit null is refused where the column cannot be empty (name, permission,
    chunk_method, pagerank), and otherwise means "empty" (avatar, description) or "unchanged"."""

    name: Name = ""  # a default is not validated: only a given name must be valid
    pagerank: int = Field(default=0, ge=0, le=100)
    language: str | None = Field(default=None, max_length=32)


# Null on update: these become empty, and these leave the stored value as it is.
EMPTIED_BY_NULL = ("avatar", "description")
KEPT_BY_NULL = ("embedding_model", "parser_config", "language", "ext")


def given_fields(spec: HasParserConfig) -> dict[str, Any]:
    """The fields a body sets; its parser_config as the keys the client sent."""
    fields = spec.model_dump(exclude_unset=True)
    if spec.parser_config is not None:
        fields["parser_config"] = spec.parser_config.given()
    return fields


def dataset_fields(spec: DatasetCreate) -> dict[str, Any]:
    """What a create or update body sets, as the domain takes it."""
    fields = given_fields(spec)
    for key in EMPTIED_BY_NULL:
        if key in fields and fields[key] is None:
            fields[key] = ""
    return {key: value for key, value in fields.items() if value is not None or key not in KEPT_BY_NULL}


class DeleteIds(Strict):
    ids: list[str] | None = None
    delete_all: bool = False


class DatasetDeleteIds(DeleteIds):
    """`DELETE /datasets`: RAGFlow's DeleteDatasetReq refuses repeated ids (101) before acting on any."""

    @field_validator("ids")
    @classmethod
    def no_repeats(cls, value: list[str] | None) -> list[str] | None:
        repeated = [item for item, seen in Counter(value or []).items() if seen > 1]
        if repeated:
            raise PydanticCustomError("duplicate_uuids", "Duplicate ids: '{ids}'", {"ids": ", ".join(repeated)})
        return value


class DocumentUpdate(HasParserConfig):
    model_config = ConfigDict(extra="ignore")
    name: str = ""  # a given name must be a string (null is refused); the default is never used
    chunk_method: ChunkMethod | None = None
    meta_fields: dict[str, Any] | None = None
    enabled: int | None = None

    _flat_meta_fields = field_validator("meta_fields")(flat_meta_fields)


def _message(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "body"
        message = item["msg"].removeprefix("Value error, ")
        value = shown(item.get("input", "")) if item["type"] != "missing" else ""
        lines.append(f"Field: <{field}> - Message: <{message}> - Value: <{value}>")
    return "\n".join(lines)


def shown(value: Any) -> str:
    """The offending value as RAGFlow echoes it: at most 128 characters."""
    text = str(value)
    return text if len(text) <= 128 else text[:125] + "..."


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


async def json_body(request: Request[Any, Any, Any], required: bool = True, json_only: bool = False) -> dict[str, Any]:
    """The body as a JSON object, refused in RAGFlow's words; an empty body is `{}` unless `required`.

    `json_only`: the dataset routes (RAGFlow's pydantic-validated ones) also refuse a non-JSON Content-Type.
    """
    content_type = request.headers.get("content-type")
    if json_only and (content_type or "").partition(";")[0].strip().lower() != "application/json":
        raise Invalid(f"Unsupported content type: Expected application/json, got {content_type}")
    return await json_object(request, BODY, required)


def list_of_strings(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Invalid(f"`{key}` should be a list of strings")
    return value


class DatasetListQuery(BaseModel):
    """`GET /datasets` query, checked as RAGFlow's ListDatasetReq: unknown keys refused, lax int/bool parsing."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    name: str | None = None
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=30, ge=1)
    orderby: Literal["create_time", "update_time"] = "create_time"
    desc: bool = True
    include_parsing_status: bool = False
    ext: Any = None
    ids: list[str] = Field(default_factory=list)  # Nectar keeps the repeatable `ids` filter of 0.2x

    @field_validator("id", mode="before")
    @classmethod
    def uuid_format(cls, value: Any) -> str:
        try:
            return uuid.UUID(value).hex
        except (AttributeError, TypeError, ValueError):
            raise PydanticCustomError("invalid_UUID_format", "Invalid UUID format") from None


def dataset_list_query(request: Request[Any, Any, Any]) -> DatasetListQuery:
    args: dict[str, Any] = {key: text_arg(value) for key, value in request.query_params.items() if key != "ids"}
    if "ids" in request.query_params:
        args["ids"] = [text_arg(value) for value in request.query_params.getall("ids")]
    return validated(DatasetListQuery, args)


def text_arg(value: str) -> str:
    """A query-string value as PostgreSQL can compare it: a NUL character cannot be in a text value."""
    return value.replace("\x00", "")


def page_of(request: Request[Any, Any, Any]) -> Page:
    """RAGFlow's `page`/`page_size` (validate_rest_api_page/_page_size): a missing, non-integer or
    non-positive page means 1 and size 30; a size above 100 is an error."""
    query = request.query_params
    page = _int(query.get("page"), 1)
    size = _int(query.get("page_size"), 30)
    if size > MAX_PAGE_SIZE:
        raise Invalid(f"page_size must be less than or equal to {MAX_PAGE_SIZE}")
    return Page.numbered(page if page >= 1 else 1, size if size >= 1 else 30)


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
    """`orderby` (one of `allowed`) and `desc`, which only `false` (any case) turns off, as RAGFlow reads it."""
    value = request.query_params.get("orderby") or "create_time"
    if value not in allowed:
        raise Invalid(f"invalid orderby field: {value}")
    return value, request.query_params.get("desc", "true").strip().lower() != "false"
