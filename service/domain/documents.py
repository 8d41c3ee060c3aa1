"""Documents of a knowledge base: the uploaded bytes, their parse state, and parse/stop requests."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Chunk, Dataset, Document, DocumentFile, new_id
from service.domain.batches import Batch, unique_ids
from service.domain.datasets import merged_parser_config
from service.domain.document_runs import stamp
from service.domain.file_names import file_name
from service.domain.matching import contains
from service.domain.metadata import compile_condition
from service.domain.metadata_edits import split_combined
from service.domain.pages import Page, count, paged
from service.errors import Conflict, Invalid, NotFound, TooLarge
from service.jobs import INGEST, enqueue
from service.text.chunk import check_method
from service.text.parse import IMAGE_SUFFIXES, check_supported, suffix_of

DOC_TYPES = {
    "pdf": "pdf",
    "docx": "doc",
    "xlsx": "doc",
    "csv": "doc",
    "json": "doc",
    "html": "doc",
    "htm": "doc",
    **dict.fromkeys(IMAGE_SUFFIXES, "visual"),
}
# As RAGFlow's upload: a file of these kinds is chunked by its own method, whatever the dataset's.
METHOD_BY_SUFFIX = {**dict.fromkeys(IMAGE_SUFFIXES, "picture"), "pptx": "presentation", "eml": "email"}


@dataclass
class Upload:
    filename: str
    data: bytes


@dataclass
class DocumentQuery:
    page: Page = field(default_factory=Page)
    orderby: str = "create_time"
    desc: bool = True
    keywords: str | None = None
    id: str | None = None
    name: str | None = None
    run: list[str] = field(default_factory=list)
    suffix: list[str] = field(default_factory=list)
    create_time_from: int = 0
    create_time_to: int = 0
    metadata_condition: dict[str, Any] | None = None  # RAGFlow's filter on meta_fields; an `id` overrides it


def media_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


async def upload(
    db: AsyncSession, dataset: Dataset, files: list[Upload], user_id: str, max_bytes: int
) -> list[Document]:
    for item in files:
        if not item.filename:
            raise Invalid("No file selected!")
        item.filename = file_name(item.filename)  # what every upload route stores, shows and downloads
        if len(item.filename.encode()) > 255:
            raise Invalid("File name must be 255 bytes or less.")
        check_supported(item.filename)
        if len(item.data) > max_bytes:
            raise TooLarge(f"File '{item.filename}' is {len(item.data)} bytes; the limit is {max_bytes} bytes.")
    documents = []
    for item in files:
        suffix = suffix_of(item.filename)
        document = Document(
            id=new_id(),
            tenant_id=dataset.tenant_id,
            dataset_id=dataset.id,
            name=await _free_name(db, dataset.id, item.filename),
            suffix=suffix,
            doc_type=DOC_TYPES.get(suffix, "doc"),
            size=len(item.data),
            content_sha256=hashlib.sha256(item.data).hexdigest(),
            chunk_method=METHOD_BY_SUFFIX.get(suffix, dataset.chunk_method),
            parser_config=dict(dataset.parser_config),
            meta_fields={},
            enabled=True,
            run="UNSTART",
            progress=0.0,
            progress_msg="",
            process_duration=0.0,
            chunk_count=0,
            token_count=0,
            created_by=user_id,
        )
        db.add(document)
        db.add(DocumentFile(document_id=document.id, tenant_id=dataset.tenant_id, data=item.data))
        documents.append(document)
    await db.flush()
    return documents


async def _free_name(db: AsyncSession, dataset_id: str, name: str) -> str:
    """RAGFlow keeps both files of one name, the later as `name(1).ext`."""
    taken = set(await db.scalars(select(Document.name).where(Document.dataset_id == dataset_id)))
    if name not in taken:
        return name
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    n = 1
    while f"{stem}({n}){dot}{ext}" in taken:
        n += 1
    return f"{stem}({n}){dot}{ext}"


async def get_document(db: AsyncSession, dataset: Dataset, document_id: str) -> Document:
    document = await db.get(Document, document_id)
    if document is None or document.dataset_id != dataset.id:
        raise NotFound(f"You don't own the document {document_id}.")
    return document


def _filtered(query: Select[Any], dataset: Dataset, spec: DocumentQuery) -> Select[Any]:
    query = query.where(Document.dataset_id == dataset.id)
    if spec.keywords:
        query = query.where(contains(Document.name, spec.keywords))
    if spec.id:
        query = query.where(Document.id == spec.id)
    if spec.name:
        query = query.where(Document.name == spec.name)
    if spec.run:
        query = query.where(Document.run.in_(spec.run))
    if spec.suffix:
        query = query.where(Document.suffix.in_([s.lower().lstrip(".") for s in spec.suffix]))
    if spec.metadata_condition and not spec.id:
        query = query.where(compile_condition(spec.metadata_condition))
    return query


def _in_window(document: Document, spec: DocumentQuery) -> bool:
    created = int(document.created_at.timestamp() * 1000)
    return (not spec.create_time_from or created >= spec.create_time_from) and (
        not spec.create_time_to or created <= spec.create_time_to
    )


async def _check_named(db: AsyncSession, dataset: Dataset, spec: DocumentQuery) -> None:
    """RAGFlow refuses an `id` or `name` filter no document of the dataset has, instead of listing nothing."""
    for what, only in ((spec.id, DocumentQuery(id=spec.id)), (spec.name, DocumentQuery(name=spec.name))):
        if what and not await count(db, _filtered(select(Document.id), dataset, only)):
            raise NotFound(f"you don't own the document {what}")


async def list_documents(db: AsyncSession, dataset: Dataset, spec: DocumentQuery) -> tuple[list[Document], int]:
    """One page and the total, as RAGFlow 0.27 has them: `create_time_from/to` filter the rows of the page
    taken without them, and the total does not count them (a window in the future: no rows, total unchanged)."""
    await _check_named(db, dataset, spec)
    column = {"update_time": Document.updated_at, "name": Document.name}.get(spec.orderby, Document.created_at)
    order = (column.desc(), Document.id.desc()) if spec.desc else (column.asc(), Document.id.asc())
    rows, total = await paged(db, _filtered(select(Document), dataset, spec).order_by(*order), spec.page)
    return [row for row in rows if _in_window(row, spec)], total


async def read_file(db: AsyncSession, dataset: Dataset, document_id: str) -> tuple[Document, bytes]:
    document = await db.get(Document, document_id)
    if document is None or document.dataset_id != dataset.id:
        raise NotFound(f"The dataset not own the document {document_id}.")
    data = await db.scalar(select(DocumentFile.data).where(DocumentFile.document_id == document_id))
    if not data:
        raise NotFound("This file is empty.")
    return document, data


async def update_document(db: AsyncSession, dataset: Dataset, document_id: str, changes: dict[str, Any]) -> Document:
    document = await get_document(db, dataset, document_id)
    if "name" in changes and changes["name"] != document.name:
        await _rename(db, document, changes.pop("name"))
    changes.pop("name", None)
    if "enabled" in changes:
        # Retrieval skips a disabled document's chunks; their own `available` flags stay as the user set them.
        document.enabled = bool(changes.pop("enabled"))
    if "meta_fields" in changes:
        document.meta_fields = split_combined(changes.pop("meta_fields") or {})
    method = changes.get("chunk_method", document.chunk_method)
    if "chunk_method" in changes or "parser_config" in changes:
        check_method(method)
        base = changes.get("parser_config") or ({} if method != document.chunk_method else document.parser_config)
        reset = method != document.chunk_method
        document.chunk_method, document.parser_config = method, merged_parser_config(method, base)
        if reset:
            await _reset(db, document)
    await db.flush()
    await db.refresh(document)
    return document


async def _rename(db: AsyncSession, document: Document, name: str) -> None:
    name = file_name(name)
    if name == document.name:
        return
    if len(name.encode()) > 255:
        raise Invalid("File name must be 255 bytes or less.")
    if suffix_of(name) != document.suffix:
        raise Invalid("The extension of file can't be changed")
    duplicate = await db.scalar(
        select(func.count()).where(Document.dataset_id == document.dataset_id, Document.name == name)
    )
    if duplicate:
        raise Conflict("Duplicated document name in the same dataset.")
    document.name = name


async def _reset(db: AsyncSession, document: Document) -> None:
    await db.execute(delete(Chunk).where(Chunk.document_id == document.id))
    document.run, document.run_id, document.progress, document.progress_msg = "UNSTART", None, 0.0, ""
    document.chunk_count = document.token_count = 0


async def _owned(db: AsyncSession, dataset: Dataset, ids: list[str]) -> tuple[list[Document], list[str]]:
    """The dataset's documents among `ids` (in the order given), and the ids it does not hold."""
    found = {
        d.id: d
        for d in await db.scalars(select(Document).where(Document.dataset_id == dataset.id, Document.id.in_(ids)))
    }
    return [found[i] for i in ids if i in found], [i for i in ids if i not in found]


async def delete_documents(db: AsyncSession, dataset: Dataset, ids: list[str] | None, delete_all: bool) -> Batch:
    """Deletes the documents found; the others are reported (`missing`), as RAGFlow does."""
    if delete_all:
        ids = list(await db.scalars(select(Document.id).where(Document.dataset_id == dataset.id)))
    elif not ids:
        raise Invalid(f"should either provide doc ids or set delete_all(true), dataset: {dataset.id}. ")
    unique, duplicates = unique_ids(ids or [], "document")
    documents, missing = await _owned(db, dataset, unique)
    doomed = [document.id for document in documents]
    if doomed:
        await db.execute(delete(Chunk).where(Chunk.document_id.in_(doomed)))
        await db.execute(delete(Document).where(Document.id.in_(doomed)))
    return Batch(len(doomed), missing, duplicates)


async def start_parsing(db: AsyncSession, dataset: Dataset, ids: list[str], refuse_running: bool = False) -> Batch:
    """Queue a fresh run for each document found; its old chunks stay searchable until the new ones replace them."""
    if not ids:
        raise Invalid("`document_ids` is required")
    unique, duplicates = unique_ids(ids, "document")
    documents, missing = await _owned(db, dataset, unique)
    if refuse_running and any(document.run == "RUNNING" for document in documents):
        raise Conflict("Can't parse document that is currently being processed")
    payloads = []
    for document in documents:
        document.run_id = new_id()
        document.run, document.progress = "RUNNING", 0.0
        document.progress_msg = stamp("Task is queued.")
        document.process_begin_at, document.process_duration = datetime.now(UTC), 0.0
        payloads.append({"document_id": document.id, "run_id": document.run_id})
    await db.flush()
    if payloads:
        await enqueue(db, INGEST, payloads)
    return Batch(len(documents), missing, duplicates)


async def stop_parsing(db: AsyncSession, dataset: Dataset, ids: list[str]) -> Batch:
    """Cancel running parses: the run id is cleared, so the worker stops at its next checkpoint."""
    if not ids:
        raise Invalid("`document_ids` is required")
    unique, duplicates = unique_ids(ids, "document")
    documents, missing = await _owned(db, dataset, unique)
    batch = Batch(0, missing, duplicates)
    for document in documents:
        if document.run not in ("RUNNING", "CANCEL"):
            batch.errors.append("Can't stop parsing document that has not started or already completed")
            continue
        document.run, document.run_id, document.progress = "CANCEL", None, 0.0
        document.progress_msg += "\n" + stamp("Task stopped by user.")
        document.chunk_count = document.token_count = 0
        batch.done += 1
    # As RAGFlow does, a stopped document keeps no chunks (none of a half-done run were ever stored).
    await db.execute(delete(Chunk).where(Chunk.document_id.in_([d.id for d in documents if d.run == "CANCEL"])))
    await db.flush()
    return batch
