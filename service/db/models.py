"""The one set of tables every API family reads and writes.

Every table carries `tenant_id` so a large deployment can distribute by tenant (Citus) without a rewrite.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=utcnow)


class Tenant(Timestamped, Base):
    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))


class ApiKey(Timestamped, Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))


class Dataset(Timestamped, Base):
    __tablename__ = "datasets"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    avatar: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(32), default="English")
    embedding_model: Mapped[str] = mapped_column(String(255))
    permission: Mapped[str] = mapped_column(String(8), default="me")
    chunk_method: Mapped[str] = mapped_column(String(32), default="naive")
    parser_config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    pagerank: Mapped[int] = mapped_column(Integer, default=0)
    similarity_threshold: Mapped[float] = mapped_column(Float, default=0.2)
    # None: retrieval's default (domain/retrieval.DEFAULT_VECTOR_WEIGHT), the weight a search that names none uses.
    vector_similarity_weight: Mapped[float | None] = mapped_column(Float)
    # Kept as given and returned (RAGFlow's `ext` and `auto_metadata_config`); nothing here acts on them yet.
    ext: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    auto_metadata_config: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    __table_args__ = (Index("ix_datasets_tenant_lower_name", "tenant_id", func.lower(name), unique=True),)


class Document(Timestamped, Base):
    __tablename__ = "documents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(32), index=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    suffix: Mapped[str] = mapped_column(String(32))
    doc_type: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(BigInteger)
    # hex SHA-256 of the uploaded bytes: how `nectar ingest` knows a file is already in the dataset (0012)
    content_sha256: Mapped[str] = mapped_column(String(64))
    chunk_method: Mapped[str] = mapped_column(String(32))
    parser_config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    meta_fields: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    run: Mapped[str] = mapped_column(String(8), default="UNSTART")
    # A fresh run_id per parse request: a worker whose run_id no longer matches stops and stores nothing,
    # which is how cancel and re-parse stay exact even when a stale job is still running somewhere.
    run_id: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    progress_msg: Mapped[str] = mapped_column(Text, default="")
    process_begin_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    process_duration: Mapped[float] = mapped_column(Float, default=0.0)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    token_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(32))
    __table_args__ = (Index("ix_documents_dataset_created", "dataset_id", "created_at"),)


class DocumentFile(Base):
    """The uploaded bytes, apart from the row so listing documents never reads them."""

    __tablename__ = "document_files"
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class IngestionLog(Timestamped, Base):
    """One finished parse run (DONE, FAIL or CANCEL) of a document: RAGFlow's `pipeline_operation_log`.

    Rows are written by the database itself (trigger `documents_ingestion_log`, migration 0011) whenever a
    document's `run` becomes final, whichever code path finished it; they keep the document's state of that
    moment. No foreign key to the document: a log outlives it, as RAGFlow's does.
    """

    __tablename__ = "ingestion_logs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(32))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    document_id: Mapped[str] = mapped_column(String(32))
    document_name: Mapped[str] = mapped_column(String(255))
    document_suffix: Mapped[str] = mapped_column(String(32))
    document_type: Mapped[str] = mapped_column(String(16))
    parser_id: Mapped[str] = mapped_column(String(32))
    task_type: Mapped[str] = mapped_column(String(16), server_default="Parse")
    operation_status: Mapped[str] = mapped_column(String(8))
    progress: Mapped[float] = mapped_column(Float)
    progress_msg: Mapped[str] = mapped_column(Text)
    process_begin_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    process_duration: Mapped[float] = mapped_column(Float)
    __table_args__ = (Index("ix_ingestion_logs_dataset_created", "dataset_id", "created_at"),)


class Chunk(Base):
    __tablename__ = "chunks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(32))
    dataset_id: Mapped[str] = mapped_column(String(32))
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
    content: Mapped[str] = mapped_column(Text)
    important_keywords: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    questions: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    tag_kwd: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    positions: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    token_count: Mapped[int] = mapped_column(Integer, default=0)
    # The vector column is untyped so several models (of several sizes) can live in one table; each
    # model gets its own partial HNSW index over `embedding::vector(dim)`, keyed by `embedding_model`.
    embedding_model: Mapped[str] = mapped_column(String(255))
    embedding: Mapped[Any] = mapped_column(Vector())
    tsv: Mapped[Any] = mapped_column(TSVECTOR)
    # BM25's term frequencies and length, generated from `tsv` (0015): the indexed words, and the lexemes held
    # more than once with their counts (one held once is found by `tsv @@`). Never loaded unless asked for.
    keyword_length: Mapped[int] = mapped_column(Integer, Computed("chunk_keyword_length(tsv)", persisted=True))
    keyword_repeats: Mapped[dict[str, int]] = mapped_column(
        JSONB, Computed("chunk_keyword_repeats(tsv)", persisted=True), deferred=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (
        Index("ix_chunks_document_ordinal", "document_id", "ordinal"),
        Index("ix_chunks_dataset", "dataset_id"),
        Index("ix_chunks_tsv", "tsv", postgresql_using="gin"),
    )


class KeywordCorpus(Base):
    """Per dataset, BM25's corpus: its chunks and their indexed words (average length = words / chunks).

    Kept by the database (triggers of migration 0015) as chunks are written, whichever code path writes them.
    """

    __tablename__ = "keyword_corpus"
    dataset_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    chunks: Mapped[int] = mapped_column(BigInteger)
    words: Mapped[int] = mapped_column(BigInteger)


class KeywordTerm(Base):
    """Per dataset and lexeme, BM25's document frequency: how many of the dataset's chunks hold it (0015)."""

    __tablename__ = "keyword_terms"
    dataset_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    term: Mapped[str] = mapped_column(Text, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    chunks: Mapped[int] = mapped_column(BigInteger)


# The staging of migration 0015's triggers, never read by the service: a writing transaction's change to the
# keyword statistics (term '' is the dataset's corpus row), and the flag whose row queues its flush at commit.
# UNLOGGED and without a key: their rows never outlive the transaction that wrote them.
keyword_deltas = Table(
    "keyword_deltas",
    Base.metadata,
    Column("xact", BigInteger, nullable=False, index=True),
    Column("tenant_id", String(32), nullable=False),
    Column("dataset_id", String(32), nullable=False),
    Column("term", Text, nullable=False),
    Column("chunks", BigInteger, nullable=False),
    Column("words", BigInteger, nullable=False),
    prefixes=["UNLOGGED"],
)
keyword_flushes = Table(
    "keyword_flushes", Base.metadata, Column("xact", BigInteger, primary_key=True), prefixes=["UNLOGGED"]
)


class Assistant(Timestamped, Base):
    """RAGFlow chat, OpsBee deployment, apps app: one row, several faces.

    The behaviour lives in two configs (see domain.assistants.AssistantConfig): `published_config` is what
    every public face answers with; `draft_config` is what an app's debug chat answers with until it is
    published. An assistant created through a RAGFlow or OpsBee face is published at birth.
    """

    __tablename__ = "assistants"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    icon: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(8), default="chat")  # chat | qa (an OpsBee deployment type)
    published_config: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    draft_config: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The apps face's debug conversation (made on first use; no foreign key: a deleted session is made anew).
    debug_session_id: Mapped[str | None] = mapped_column(String(32))
    __table_args__ = (Index("ix_assistants_tenant_created", "tenant_id", "created_at"),)


class ChatSession(Timestamped, Base):
    """A conversation (RAGFlow session, OpsBee thread, apps conversation); `summary` is its long-term memory."""

    __tablename__ = "chat_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(32))
    assistant_id: Mapped[str] = mapped_column(ForeignKey("assistants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    __table_args__ = (Index("ix_chat_sessions_assistant_created", "assistant_id", "created_at"),)


class Message(Timestamped, Base):
    """One question and its answer, from any face: what the LLMOps views read.

    status: ok | error | cancelled. `session_id` is empty for stateless faces (the OpenAI endpoints).
    """

    __tablename__ = "messages"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(32))
    # None: asked without an assistant (RAGFlow's chat-less completions), answered by the default model.
    assistant_id: Mapped[str | None] = mapped_column(ForeignKey("assistants.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))  # the face that asked: ragflow | openai | apps | opsbee
    input: Mapped[str] = mapped_column(Text)
    output: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    model: Mapped[str] = mapped_column(String(255), default="")
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    first_token_ms: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    error: Mapped[str] = mapped_column(Text, default="")
    thumbup: Mapped[bool | None] = mapped_column(Boolean)
    feedback: Mapped[str] = mapped_column(Text, default="")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        Index("ix_messages_session_created", "session_id", "created_at"),
        Index("ix_messages_assistant_created", "assistant_id", "created_at"),
        # OpsBee lists a deployment's visible histories newest-updated first (its default sort); partial, so a
        # deployment's count is an index-only scan and soft-deleted rows are never visited.
        Index(
            "ix_messages_assistant_updated", "assistant_id", "updated_at", postgresql_where=text("deleted_at IS NULL")
        ),
    )


class UsageHour(Base):
    """Per assistant, UTC hour and thread ('' for stateless turns): its visible messages summed (usage analytics).

    Kept by the database (triggers of migration 0016) as messages are written, whichever code path writes them.
    """

    __tablename__ = "usage_hours"
    assistant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    turns: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    latency_ms: Mapped[float] = mapped_column(Float)
    likes: Mapped[int] = mapped_column(Integer)
    dislikes: Mapped[int] = mapped_column(Integer)


class UsageLatencyBin(Base):
    """Per assistant, UTC hour and latency bin (5% wide, `usage_latency_bin`): its answered turns (0016)."""

    __tablename__ = "usage_latency_bins"
    assistant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    bin: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    turns: Mapped[int] = mapped_column(Integer)


class Tag(Timestamped, Base):
    """An OpsBee history tag: per tenant, a unique name and a colour from a fixed palette."""

    __tablename__ = "tags"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    color: Mapped[str] = mapped_column(String(16), default="grey")
    __table_args__ = (Index("ix_tags_tenant_name", "tenant_id", "name", unique=True),)


class MessageTag(Base):
    """A tag on a message (an OpsBee history). `assistant_id` is the message's: the (tag, deployment) index
    answers a deployment's `tag_id:` / `tag_name:` searches from the index alone."""

    __tablename__ = "message_tags"
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[str] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    assistant_id: Mapped[str] = mapped_column(String(32))
    __table_args__ = (Index("ix_message_tags_tag_assistant", "tag_id", "assistant_id", "message_id"),)


class MessageMetadata(Timestamped, Base):
    """One key/value of a message's OpsBee metadata (≤ 20 per message, key and value ≤ 65,535 bytes).

    Keys and values may exceed a B-tree entry (~2.7 kB), so they are indexed by their md5, stored (generated
    columns, so a scan compares digests instead of computing them): a search compares
    `key_md5 = :digest AND key = :value`, which uses the index and stays exact.
    """

    __tablename__ = "message_metadata"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(32))
    assistant_id: Mapped[str] = mapped_column(String(32))  # the message's: searches keep to one deployment
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(Text)
    value: Mapped[str] = mapped_column(Text)
    key_md5: Mapped[str] = mapped_column(String(32), Computed("md5(key)", persisted=True))
    value_md5: Mapped[str] = mapped_column(String(32), Computed("md5(value)", persisted=True))
    __table_args__ = (
        Index("ix_message_metadata_message_id", "message_id"),
        Index("ix_message_metadata_assistant_key", "assistant_id", "key_md5"),
        Index("ix_message_metadata_assistant_value", "assistant_id", "value_md5"),
    )


class EvalDataset(Timestamped, Base):
    """An OpsBee "dataset": a curated evaluation set (type qa or llm). Not a knowledge base."""

    __tablename__ = "eval_datasets"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (Index("ix_eval_datasets_tenant_created", "tenant_id", "created_at"),)


class EvalItem(Timestamped, Base):
    """One example: `inputs`/`outputs`/`metadata` are lists of one-key objects, `tags` a list of names.

    `source_message_id` keeps the history an item was made from (no foreign key: the item outlives it).
    """

    __tablename__ = "eval_items"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(32))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("eval_datasets.id", ondelete="CASCADE"))
    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    outputs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    tags: Mapped[list[str]] = mapped_column(JSONB, default=list)
    metadata_: Mapped[list[dict[str, Any]]] = mapped_column("metadata", JSONB, default=list)
    source_message_id: Mapped[str | None] = mapped_column(String(32))
    __table_args__ = (Index("ix_eval_items_dataset_created", "dataset_id", "created_at"),)


class PublishedConfig(Base):
    """An app's publish history: each publish appends the config it made live, numbered 1, 2, … per app."""

    __tablename__ = "published_configs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(32))
    assistant_id: Mapped[str] = mapped_column(ForeignKey("assistants.id", ondelete="CASCADE"))
    config: Mapped[dict[str, Any]] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (Index("ix_published_configs_assistant_version", "assistant_id", "version", unique=True),)


class EvalRun(Timestamped, Base):
    """An evaluation run: every item of an evaluation dataset asked of a deployment, answers scored.

    status: queued | running | done | cancelled | failed. `config` is the deployment's published config when
    the run was made, so a resumed run answers as it began. `lease` is the id of the job execution that owns
    the run: a newer execution takes it over, and an older one's results are refused (domain/eval_execution.py).
    """

    __tablename__ = "eval_runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("eval_datasets.id", ondelete="CASCADE"))
    # None once the deployment is deleted: the run and its scores stay, it cannot go on.
    assistant_id: Mapped[str | None] = mapped_column(ForeignKey("assistants.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(255))
    metrics: Mapped[list[str]] = mapped_column(JSONB)
    concurrency: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer)
    tag_id: Mapped[str | None] = mapped_column(String(32))  # the tag its histories carry (named as the run)
    thread_id: Mapped[str | None] = mapped_column(String(32))  # where its histories are recorded
    lease: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        Index("ix_eval_runs_dataset_created", "dataset_id", "created_at"),
        Index("ix_eval_runs_dataset_name", "dataset_id", "name", unique=True),
    )


class EvalRunItem(Timestamped, Base):
    """One item of a run: what was asked and expected (copied when the run was made), and how it went.

    status: pending | ok | error. `message_id` is chosen up front: the history the answer is recorded as, so a
    resumed run finds an answer already recorded instead of asking again. `item_id` has no foreign key: the
    run keeps its results when the dataset item is deleted.
    """

    __tablename__ = "eval_run_items"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(32))
    run_id: Mapped[str] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(32))
    ordinal: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)
    expected: Mapped[str | None] = mapped_column(Text)  # None: the item names no expected output
    relevant: Mapped[dict[str, Any]] = mapped_column(JSONB)  # {"documents": [...], "chunks": [...]} to retrieve
    status: Mapped[str] = mapped_column(String(16), default="pending")
    answer: Mapped[str] = mapped_column(Text, default="")
    scores: Mapped[dict[str, float]] = mapped_column(JSONB, default=dict)
    judge_reason: Mapped[str] = mapped_column(Text, default="")
    latency_ms: Mapped[float | None] = mapped_column(Float)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (
        Index("ix_eval_run_items_run_item", "run_id", "item_id", unique=True),
        Index("ix_eval_run_items_run_ordinal", "run_id", "ordinal"),
    )


class AgentCanvas(Timestamped, Base):
    """A RAGFlow agent's canvas (its DSL), beside the Assistant row that is the agent.

    Sessions and recorded turns point at that Assistant, so an agent's turns are one more (chat) deployment's
    messages to the history, usage and apps views. The row holds what a chat has not: the DSL, its canvas type.
    """

    __tablename__ = "agent_canvases"
    assistant_id: Mapped[str] = mapped_column(ForeignKey("assistants.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    canvas_type: Mapped[str] = mapped_column(String(64), default="")
    dsl: Mapped[dict[str, Any]] = mapped_column(JSONB)
