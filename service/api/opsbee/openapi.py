"""The OpsBee family's operations in the published OpenAPI document (see service/api/openapi.py).

Bare JSON objects (views.py), offset/limit/has_next pages, errors `{"error", "error_description"}` with real HTTP
statuses (errors.py). `{organization_id}` is the caller's tenant id or `me`. Auth: Bearer or Basic. Documentation
only: every body is read as abeja-sdk sends it (all fields optional at the reader, checked by the domain).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from service.api.openapi import BASIC, BEARER, Family, Op, Param
from service.api.opsbee.datasets import AddHistoriesController, EvalDatasetController, EvalItemController
from service.api.opsbee.deployments import DeploymentController
from service.api.opsbee.histories import HistoryController, QaHistoryController, list_chat_histories
from service.api.opsbee.runs import RunController
from service.api.opsbee.schemas import MAX_LIMIT
from service.api.opsbee.tags import TagController
from service.api.opsbee.threads import ThreadController
from service.api.opsbee.usage import deployment_stats, export_histories, export_items, rate_history
from service.domain.eval_runs import ITEM_STATUSES, MAX_CONCURRENCY, STATUSES
from service.domain.eval_summary import MAX_CHANGED
from service.domain.exports import FORMATS
from service.domain.history_search import ORDERS, SORTS
from service.domain.metrics import KNOWN
from service.domain.usage_stats import INTERVALS

Pairs = list[dict[str, str]]  # `[{"question": "..."}]`: objects of one key each

# --- objects ---------------------------------------------------------------------------------------------------


class Stamped(BaseModel):
    created_at: str = Field(description="ISO 8601 with offset")
    updated_at: str


class Deployment(Stamped):
    id: str
    organization_id: str
    name: str
    description: str
    type: Literal["chat", "qa"]
    history_count: int


class Thread(Stamped):
    id: str
    organization_id: str
    deployment_id: str
    name: str
    description: str


class Tag(Stamped):
    id: str
    organization_id: str
    name: str
    description: str
    color: str


class TagSummary(BaseModel):
    id: str
    name: str
    description: str
    color: str


class MetadataSummary(BaseModel):
    id: str
    key: str
    value: str


class History(BaseModel):
    id: str
    organization_id: str
    deployment_id: str
    thread_id: str
    thread_name: str
    input_text: str
    output_text: str
    input_token_count: int
    output_token_count: int
    tags: list[TagSummary]
    metadata: list[MetadataSummary]
    created_at: str
    updated_at: str
    status: Literal["ok", "error", "cancelled"] = Field(description="Nectar's: how the turn ended")
    error_message: str | None = Field(description="Nectar's: why a failed turn failed")


class Metadata(Stamped):
    id: str
    organization_id: str
    deployment_id: str
    history_id: str
    key: str
    value: str


class EvalDataset(Stamped):
    id: str
    organization_id: str
    name: str
    description: str
    type: Literal["qa", "llm"]
    item_count: int


class EvalItem(Stamped):
    id: str
    organization_id: str
    dataset_id: str
    inputs: Pairs
    outputs: Pairs
    tags: list[str]
    metadata: Pairs
    source_history_id: str | None


class Paged(BaseModel):
    organization_id: str
    offset: int
    limit: int
    has_next: bool


class Counted(Paged):
    total: int


class DeploymentPage(Paged):
    deployments: list[Deployment]


class ThreadPage(Counted):
    deployment_id: str
    threads: list[Thread]


class TagPage(Paged):
    tags: list[Tag]


class HistoryPage(Counted):
    deployment_id: str
    histories: list[History]
    sort_by: str
    sort_order: Literal["asc", "desc"]
    thread_id: str | None = Field(default=None, description="QA lists: the deployment's one thread")
    thread_name: str | None = None


class EvalDatasetPage(Counted):
    datasets: list[EvalDataset]


class EvalItemPage(Counted):
    dataset_id: str
    items: list[EvalItem]


class Deleted(BaseModel):
    message: str


class AddedItems(BaseModel):
    message: str
    item_ids: list[str]


class Error(BaseModel):
    error: str = Field(description="a short code: bad_request, unauthorized, not_found, conflict, ...")
    error_description: str


# --- our extensions: evaluation runs, usage ------------------------------------------------------------------


class RunProgress(BaseModel):
    total: int
    done: int
    succeeded: int
    failed: int
    pending: int
    ratio: float = Field(description="done / total")


class MetricFigures(BaseModel):
    count: int = Field(description="items scored on this metric")
    mean: float
    p50: float
    p90: float


class RunFailure(BaseModel):
    item_id: str
    error_message: str


class Run(Stamped):
    """An evaluation run; `scores` and `failures` (the first 20) when one run is asked for."""

    id: str
    organization_id: str
    dataset_id: str
    deployment_id: str | None = Field(description="null once the deployment is deleted")
    name: str
    metrics: list[str]
    concurrency: int
    status: Literal[STATUSES]  # type: ignore[valid-type]
    error_message: str | None
    thread_id: str | None = Field(description="where its histories are recorded")
    tag_id: str | None = Field(description="the tag its histories carry (named as the run)")
    progress: RunProgress
    started_at: str | None
    finished_at: str | None
    scores: dict[str, MetricFigures] | None = None
    failures: list[RunFailure] | None = None


class RunPage(Counted):
    dataset_id: str
    runs: list[Run]


class RunItem(Stamped):
    id: str
    run_id: str
    item_id: str
    history_id: str | None = Field(description="the history the answer was recorded as; null until answered")
    status: Literal[ITEM_STATUSES]  # type: ignore[valid-type]
    question: str
    expected_output: str | None
    answer: str
    scores: dict[str, float]
    judge_reason: str | None
    latency_ms: float | None
    input_token_count: int
    output_token_count: int
    error_message: str | None


class RunItemPage(Counted):
    run_id: str
    items: list[RunItem]


class ChangedItem(BaseModel):
    item_id: str
    question: str
    baseline_scores: dict[str, float]
    candidate_scores: dict[str, float]
    deltas: dict[str, float] = Field(description="candidate - baseline, per metric both runs scored")
    largest_change: float


class Comparison(BaseModel):
    baseline: Run
    candidate: Run
    deltas: dict[str, float | None] = Field(description="candidate mean - baseline mean; null if one lacks it")
    compared_items: int
    changed_items: list[ChangedItem]


class UsageFigures(BaseModel):
    messages: int
    threads: int
    active_users: int
    input_tokens: int
    output_tokens: int
    latency_p50_ms: float | None = Field(description="over answered turns")
    latency_p95_ms: float | None
    errors: int
    error_rate: float
    likes: int
    dislikes: int


class UsageInterval(UsageFigures):
    start: str = Field(description="ISO 8601, UTC")


class Usage(BaseModel):
    organization_id: str
    deployment_id: str
    from_: str = Field(alias="from")
    to: str
    interval: Literal["hour", "day"]
    total: UsageFigures
    intervals: list[UsageInterval]


# --- request bodies --------------------------------------------------------------------------------------------


class NamedBody(BaseModel):
    """An update: a missing or null field is unchanged."""

    name: str | None = None
    description: str | None = None


class NewNamed(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = None


class NewDeployment(NewNamed):
    type: Literal["chat", "qa"] = Field(description="never changes")


class TagBody(NamedBody):
    color: str | None = Field(default=None, description="e.g. #ff0000")


class NewTag(NewNamed):
    color: str | None = Field(default=None, description="e.g. #ff0000")


class HistoryBody(BaseModel):
    """On create, `input_text` or `output_text` is required; a token count of 0 is counted here."""

    input_text: str | None = None
    output_text: str | None = None
    input_token_count: int | None = Field(default=None, ge=0)
    output_token_count: int | None = Field(default=None, ge=0)
    tag_ids: list[str] | None = None
    metadata: Pairs | None = Field(default=None, description="on create only")
    status: Literal["ok", "error", "cancelled"] | None = None
    error_message: str | None = None


class MetadataBody(BaseModel):
    """On update, a missing or null field is unchanged."""

    key: str | None = None
    value: str | int | float | None = None


class NewMetadata(BaseModel):
    key: str = Field(min_length=1)
    value: str | int | float


class NewEvalDataset(NewNamed):
    type: Literal["qa", "llm"]


class EvalItemBody(BaseModel):
    inputs: Pairs
    outputs: Pairs
    tags: list[str] | None = None
    metadata: Pairs | None = None


class HistoryIds(BaseModel):
    history_ids: list[str]


class NewRun(BaseModel):
    deployment_id: str
    name: str | None = Field(default=None, max_length=255, description="unique in the dataset; default: the time")
    metrics: list[str] | None = Field(default=None, description=f"of: {', '.join(KNOWN)}; default all but llm_judge")
    concurrency: int | None = Field(default=None, ge=1, le=MAX_CONCURRENCY, description="items at a time; default 4")


class RunChange(BaseModel):
    status: Literal["cancelled"]


class HistoryFeedback(BaseModel):
    thumbup: bool | None = Field(description="null clears the rating (and its comment)")
    feedback: str | None = Field(default=None, description="the comment, kept as metadata `feedback`")


PAGE = (
    Param("offset", Annotated[int, Field(ge=0, le=2**31 - 1)], "from 0"),
    Param("limit", Annotated[int, Field(ge=1, le=MAX_LIMIT)], f"default {MAX_LIMIT}"),
)
SEARCH = Param("search_query", str, "e.g. `input_text:hello AND created_at:>2024-01-01T00:00:00+09:00`")
HISTORY_LIST = (
    *PAGE,
    SEARCH,
    Param("sort_by", Literal[tuple(SORTS)], "default updated_at; a QA list has no thread_id"),
    Param("sort_order", Literal[ORDERS], "default desc"),
)

EXPORT = (
    Param("format", Literal[tuple(FORMATS)], "csv (a header row; lists and objects as JSON text) or jsonl", True),
)
CSV = "text/csv"

OPSBEE = Family(
    name="opsbee",
    operations={
        DeploymentController.list_deployments: Op(DeploymentPage, query=PAGE),
        DeploymentController.create_deployment: Op(Deployment, NewDeployment),
        DeploymentController.get_deployment: Op(Deployment),
        DeploymentController.update_deployment: Op(Deployment, NamedBody, body_required=False),
        DeploymentController.delete_deployment: Op(Deleted),
        ThreadController.list_threads: Op(ThreadPage, query=PAGE),
        ThreadController.create_thread: Op(Thread, NewNamed),
        ThreadController.get_thread: Op(Thread),
        ThreadController.update_thread: Op(Thread, NamedBody, body_required=False),
        ThreadController.delete_thread: Op(Deleted),
        list_chat_histories: Op(HistoryPage, query=HISTORY_LIST),
        QaHistoryController.list_histories: Op(HistoryPage, query=HISTORY_LIST),
        HistoryController.create_history: Op(History, HistoryBody),
        HistoryController.get_history: Op(History),
        HistoryController.update_history: Op(History, HistoryBody, body_required=False),
        HistoryController.delete_history: Op(History),
        HistoryController.create_metadata: Op(Metadata, NewMetadata),
        HistoryController.update_metadata: Op(Metadata, MetadataBody, body_required=False),
        HistoryController.delete_metadata: Op(Deleted),
        TagController.list_tags: Op(TagPage, query=PAGE),
        TagController.create_tag: Op(Tag, NewTag),
        TagController.get_tag: Op(Tag),
        TagController.update_tag: Op(Tag, TagBody, body_required=False),
        TagController.delete_tag: Op(Deleted),
        EvalDatasetController.list_datasets: Op(EvalDatasetPage, query=PAGE),
        EvalDatasetController.create_dataset: Op(EvalDataset, NewEvalDataset),
        EvalDatasetController.get_dataset: Op(EvalDataset),
        EvalDatasetController.update_dataset: Op(EvalDataset, NamedBody, body_required=False),
        EvalDatasetController.delete_dataset: Op(EvalDataset),
        EvalItemController.list_items: Op(EvalItemPage, query=(*PAGE, SEARCH)),
        EvalItemController.create_item: Op(EvalItem, EvalItemBody),
        EvalItemController.get_item: Op(EvalItem),
        EvalItemController.delete_item: Op(EvalItem),
        AddHistoriesController.add_histories: Op(AddedItems, HistoryIds),
        RunController.list_runs: Op(RunPage, query=PAGE),
        RunController.create_run: Op(Run, NewRun, description="Queues a run; the worker answers its items."),
        RunController.compare_runs: Op(
            Comparison,
            query=(
                Param("ids", str, "`<baseline id>,<candidate id>`", True),
                Param("limit", Annotated[int, Field(ge=1, le=MAX_CHANGED)], "most-changed items shown, default 20"),
            ),
        ),
        RunController.get_run: Op(Run),
        RunController.update_run: Op(Run, RunChange, description="Cancels a queued or running run."),
        RunController.delete_run: Op(Run),
        RunController.list_run_items: Op(
            RunItemPage, query=(*PAGE, Param("status", Literal[ITEM_STATUSES], "only items in this state"))
        ),
        RunController.export_run_items: Op(str, query=EXPORT, reply_media=CSV, description="Streamed; or JSON Lines"),
        export_histories: Op(str, query=(*EXPORT, SEARCH), reply_media=CSV, description="Streamed; or JSON Lines"),
        export_items: Op(str, query=(*EXPORT, SEARCH), reply_media=CSV, description="Streamed; or JSON Lines"),
        deployment_stats: Op(
            Usage,
            query=(
                Param("from", str, "ISO 8601; default `to` minus 24 hours (hour) or 7 days (day)"),
                Param("to", str, "ISO 8601, exclusive; default now"),
                Param("interval", Literal[tuple(INTERVALS)], "default day; intervals are UTC"),
            ),
        ),
        rate_history: Op(History, HistoryFeedback, description="Tags the history feedback:like or feedback:dislike"),
        AddHistoriesController.add_one_history: Op(AddedItems),
    },
    error=Error,
    error_statuses={
        400: "Invalid request",
        401: "No valid credentials",
        403: "Forbidden",
        404: "No such organization, object or route",
        409: "Conflict (a name or metadata key already taken)",
        502: "The upstream LLM failed",
    },
    security=(BEARER, BASIC),
)
