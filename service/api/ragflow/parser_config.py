"""`parser_config` as RAGFlow v0.27 validates it: strict types, ranges, no unknown keys, at most 65,535 characters.

Every failure becomes RAGFlow's 101 `Field: <parser_config.x> - Message: <...> - Value: <...>` through
`schemas.validated`. RAPTOR, GraphRAG and parent-child settings are accepted and kept; Nectar does not run
those steps (the document's progress log says so when one is switched on).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

MAX_JSON_CHARS = 65535
RAPTOR_PROMPT = (
    "Please summarize the following paragraphs. Be careful with the numbers, do not make things up. "
    "Paragraphs as following:\n      {cluster_content}\nThe above is the content you need to summarize."
)
ENTITY_TYPES = ("organization", "person", "geo", "event", "category")
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class RaptorConfig(_Strict):
    use_raptor: bool = False
    prompt: NonBlank = RAPTOR_PROMPT
    max_token: int = Field(default=256, ge=1, le=2048)
    threshold: float = Field(default=0.1, ge=0.0, le=1.0)
    max_cluster: int = Field(default=64, ge=1, le=1024)
    random_seed: int = Field(default=0, ge=0)
    auto_disable_for_structured_data: bool = True
    ext: dict[str, Any] = Field(default_factory=dict)


class GraphragConfig(_Strict):
    use_graphrag: bool = False
    entity_types: list[str] = Field(default_factory=lambda: list(ENTITY_TYPES))
    method: Literal["light", "general", "ner"] = "light"
    community: bool = False
    resolution: bool = False


class ParentChildConfig(_Strict):
    use_parent_child: bool = False
    children_delimiter: str = Field(default="\n", min_length=1)


class ParserConfig(_Strict):
    auto_keywords: int = Field(default=0, ge=0, le=32)
    auto_questions: int = Field(default=0, ge=0, le=10)
    chunk_token_num: int = Field(default=512, ge=1, le=2048)
    delimiter: str = Field(default="\n", min_length=1)
    overlapped_percent: float = Field(default=0, ge=0, le=100)  # Nectar's chunker reads it; RAGFlow's UI sends it
    html4excel: bool = False
    layout_recognize: str = "DeepDOC"
    tag_kb_ids: list[str] = Field(default_factory=list)
    topn_tags: int = Field(default=1, ge=1, le=10)
    filename_embd_weight: float | None = Field(default=0.1, ge=0.0, le=1.0)
    task_page_size: int | None = Field(default=None, ge=1)
    pages: list[list[int]] | None = None
    image_context_size: int = Field(default=0, ge=0)
    table_context_size: int = Field(default=0, ge=0)
    table_column_mode: Literal["auto", "manual"] | None = None
    table_column_roles: dict[str, Literal["vectorize", "metadata", "both"]] | None = None
    table_column_names: list[str] | None = None
    raptor: RaptorConfig = Field(default_factory=RaptorConfig)
    graphrag: GraphragConfig = Field(default_factory=GraphragConfig)
    parent_child: ParentChildConfig = Field(default_factory=ParentChildConfig)
    ext: dict[str, Any] = Field(default_factory=dict)

    def given(self) -> dict[str, Any]:
        """The keys the client sent; a sub-object it sent is kept whole, with its defaults filled in."""
        return {
            key: getattr(self, key).model_dump() if isinstance(getattr(self, key), BaseModel) else getattr(self, key)
            for key in self.model_fields_set
        }


class HasParserConfig(BaseModel):
    """Mixed into a request model that carries a `parser_config`."""

    parser_config: ParserConfig | None = None

    @field_validator("parser_config", mode="before")
    @classmethod
    def empty_is_unset(cls, value: Any) -> Any:
        """`{}` means "the chunk method's defaults", as null does."""
        return None if value == {} else value

    @field_validator("parser_config", mode="after")
    @classmethod
    def within_size(cls, config: ParserConfig | None) -> ParserConfig | None:
        """RAGFlow measures the validated config as compact JSON, defaults included."""
        if config is not None and len(dumped := config.model_dump_json()) > MAX_JSON_CHARS:
            raise PydanticCustomError(
                "string_too_long",
                "Parser config exceeds size limit (max 65,535 characters). Current size: {actual}",
                {"actual": len(dumped)},
            )
        return config
