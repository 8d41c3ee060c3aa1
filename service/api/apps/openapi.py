"""The apps family's operations in the published OpenAPI document (see service/api/openapi.py).

Envelope `{"code", "data", "message"}` with HTTP 200 for every business outcome (envelope.py); times are unix
seconds; pages are `list` + `paginator`. Documentation only: bodies are read and checked by schemas.py.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from service.api.apps.analysis import AnalysisController
from service.api.apps.apps import AppController
from service.api.apps.debug import DebugController
from service.api.apps.schemas import INFO_LIMITS, MAX_HISTORY_PAGE, MAX_MESSAGES_PAGE
from service.api.openapi import Family, Op, Param

T = TypeVar("T")
MemoryMode = Literal["long_term_memory", "none"]  # assistants.MEMORY_MODES (the unit test compares)


class Ok(BaseModel, Generic[T]):
    code: Literal["success"]
    data: T
    message: str


class Failure(BaseModel):
    """`validate_error` carries `data: {<field>: [<message>]}` when the failing field is known."""

    code: Literal["fail", "not_found", "unauthorized", "forbidden", "validate_error"]
    data: dict[str, Any]
    message: str


class ModelConfig(BaseModel):
    dialog_round: int
    llm_id: str


class Config(BaseModel):
    id: str
    model_config_: ModelConfig = Field(alias="model_config")
    memory_mode: MemoryMode
    status: Literal["drafted", "published"]
    updated_at: int
    created_at: int


class App(BaseModel):
    id: str
    name: str
    icon: str
    description: str
    status: Literal["draft", "published"]
    published_app_config_id: str | None
    drafted_app_config_id: str | None
    debug_conversation_id: str | None
    published_app_config: Config | None
    drafted_app_config: Config | None
    updated_at: int
    created_at: int


class PublishedVersion(BaseModel):
    id: str
    version: int


class HistoryEntry(BaseModel):
    id: str
    version: int
    model_config_: ModelConfig = Field(alias="model_config")
    memory_mode: MemoryMode
    created_at: int


class DebugMessage(BaseModel):
    id: str
    conversation_id: str
    query: str
    answer: str
    answer_tokens: int
    response_latency: float = Field(description="milliseconds")
    status: str
    updated_at: int
    created_at: int


class Paginator(BaseModel):
    current_page: int
    page_size: int
    total_page: int
    total_record: int


class Page(BaseModel, Generic[T]):
    items: list[T] = Field(alias="list")
    paginator: Paginator


class Memory(BaseModel):
    summary: str


class ModelConfigBody(BaseModel):
    dialog_round: int | None = Field(default=None, ge=0)
    llm_id: str | None = Field(default=None, max_length=255)


class ConfigBody(BaseModel):
    """Every key optional; other keys (the course's later config keys) are ignored."""

    model_config_: ModelConfigBody | None = Field(default=None, alias="model_config")
    memory_mode: MemoryMode | None = None


class NewApp(ConfigBody):
    name: str = Field(min_length=1, max_length=INFO_LIMITS["name"])
    icon: str = Field(default="", max_length=INFO_LIMITS["icon"])
    description: str = Field(default="", max_length=INFO_LIMITS["description"])


class MemoryBody(BaseModel):
    summary: str


class DebugBody(BaseModel):
    """`stream: true` answers with server-sent events: `agent_message` deltas, then `message_end` (the message
    record) or `error`."""

    query: str
    stream: bool = False


class Indicator(BaseModel):
    data: float
    pop: float = Field(description="period over period: (this week - last week) / last week; 0 without last week")


class Trend(BaseModel):
    x_axis: list[int] = Field(description="the 7 days, unix seconds of their UTC midnight")
    y_axis: list[float]


class Analysis(BaseModel):
    """The imooc course's `/analysis/:app_id`: the last 7 whole days (UTC) against the 7 before."""

    total_messages: Indicator
    active_accounts: Indicator
    avg_of_conversation_messages: Indicator
    token_output_rate: Indicator = Field(description="tokens per second of answering")
    cost_consumption: Indicator = Field(description="always 0: no prices are kept")
    total_messages_trend: Trend
    active_accounts_trend: Trend
    avg_of_conversation_messages_trend: Trend
    cost_consumption_trend: Trend


class RatedMessage(DebugMessage):
    rating: Literal["like", "dislike"] | None
    content: str


class FeedbackBody(BaseModel):
    """Dify's message feedback; the rating becomes the history's `feedback:like` / `feedback:dislike` tag."""

    rating: Literal["like", "dislike"] | None = Field(description="null clears the rating")
    content: str | None = None


def paging(max_size: int) -> tuple[Param, ...]:
    return (
        Param("current_page", Annotated[int, Field(ge=1)], "from 1"),
        Param("page_size", Annotated[int, Field(ge=1)], f"default 20, at most {max_size} (larger is clamped)"),
    )


Done = Ok[dict[str, Any]]

APPS = Family(
    name="apps",
    operations={
        AppController.create_app: Op(Ok[App], NewApp),
        AppController.get_app: Op(Ok[App]),
        AppController.update_config: Op(Done, ConfigBody),
        AppController.publish: Op(Ok[PublishedVersion]),
        AppController.cancel_publish: Op(Done),
        AppController.histories: Op(Ok[Page[HistoryEntry]], query=paging(MAX_HISTORY_PAGE)),
        AppController.read_memory: Op(Ok[Memory]),
        AppController.write_memory: Op(Done, MemoryBody),
        DebugController.debug: Op(Ok[DebugMessage], DebugBody, stream=True),
        DebugController.list_messages: Op(Ok[Page[DebugMessage]], query=paging(MAX_MESSAGES_PAGE)),
        DebugController.delete_message: Op(Done),
        AnalysisController.analysis: Op(Ok[Analysis]),
        AnalysisController.rate_message: Op(Ok[RatedMessage], FeedbackBody),
    },
    error=Failure,
    error_statuses={401: "No valid API key", 404: "No such route", 405: "Wrong method"},
    errors_in_200=True,
)
