"""A dataset's embeddings: RAGFlow's model-switch check and its re-embed of every document.

The check re-embeds a random sample of stored chunks with a candidate model and compares the new vectors with
the stored ones (cosine), as RAGFlow's `check_embedding` does: a model is a safe switch when the mean similarity
is at least 0.9. With one builtin model the answer is the truth about that model, measured, not assumed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Chunk, Dataset, Document
from service.domain.documents import start_parsing
from service.errors import Conflict, DomainError, Invalid, Unsupported, UpstreamError
from service.providers.base import Embedder, EmbedderFor
from service.providers.embedding import canonical_name

COMPATIBLE = 0.9  # RAGFlow's threshold on the mean cosine similarity
MAX_SAMPLES = 1000  # RAGFlow samples among the first 1000 chunks
TITLE_WEIGHT = 0.1  # RAGFlow also tries the vector as 0.1 × title + 0.9 × content
TABLE_TAGS = re.compile(r"</?(table|td|caption|tr|th)( [^<>]{0,12})?>")


@dataclass
class Sample:
    chunk_id: str
    document_id: str
    document_name: str
    text: str
    vector: list[float] | None


@dataclass
class EmbeddingCheck:
    dataset_id: str
    model: str
    sampled: int
    results: list[dict[str, Any]] = field(default_factory=list)
    similarities: list[float] = field(default_factory=list)
    match_mode: str = "content_only"

    @property
    def compatible(self) -> bool:
        average: float = self.summary()["avg_cos_sim"]
        return average >= COMPATIBLE

    def summary(self) -> dict[str, Any]:
        sims = self.similarities
        return {
            "kb_id": self.dataset_id,
            "model": self.model,
            "sampled": self.sampled,
            "valid": len(sims),
            "avg_cos_sim": round(sum(sims) / len(sims), 6) if sims else 0.0,
            "min_cos_sim": round(min(sims), 6) if sims else 0.0,
            "max_cos_sim": round(max(sims), 6) if sims else 0.0,
            "match_mode": self.match_mode,
        }


def checked_model(name: str) -> str:
    """The candidate model as stored names go; any refusal is RAGFlow's 102 (its availability check)."""
    try:
        return canonical_name(name)
    except Invalid as error:
        raise Unsupported(error.message) from None


async def sample_chunks(db: AsyncSession, dataset: Dataset, count: int) -> list[Sample]:
    rows = await db.execute(
        select(Chunk.id, Chunk.document_id, Document.name, Chunk.content, Chunk.questions, Chunk.embedding)
        .join(Document, Document.id == Chunk.document_id)
        .where(Chunk.dataset_id == dataset.id, Chunk.available.is_(True))
        .order_by(func.random())
        .limit(min(count, MAX_SAMPLES))
    )
    return [
        Sample(chunk_id, document_id, name, _text(content, questions), _floats(vector))
        for chunk_id, document_id, name, content, questions, vector in rows
    ]


def _text(content: str, questions: list[str]) -> str:
    """What RAGFlow embeds a chunk as: its questions if it has any, else its content, table tags removed."""
    return TABLE_TAGS.sub(" ", "\n".join(questions) or content or "").strip()


def _floats(vector: Any) -> list[float] | None:
    return None if vector is None else [float(x) for x in vector]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    norm_a, norm_b = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(x * x for x in b))
    if norm_a < 1e-12 or norm_b < 1e-12:
        return 0.0
    return sum(x * y for x, y in zip(a, b, strict=True)) / (norm_a * norm_b)


async def check_embedding(
    db: AsyncSession, dataset: Dataset, model: str, count: int, embedder_for: EmbedderFor
) -> EmbeddingCheck:
    """Re-embed up to `count` random chunks with `model` and compare; raises when nothing could be compared."""
    embedder = embedder_for(checked_model(model))
    samples = await sample_chunks(db, dataset, count)
    check = EmbeddingCheck(dataset.id, model, len(samples))  # the model as named, as RAGFlow reports it
    comparable = [sample for sample in samples if sample.text and sample.vector]
    embedded = await _embed(embedder, comparable)
    vectors = dict(zip((sample.chunk_id for sample in comparable), embedded, strict=True))
    for sample in samples:  # in sample order, as RAGFlow reports them
        if sample.chunk_id in vectors:
            _compare(check, sample, *vectors[sample.chunk_id])
        else:
            reason = "no_text" if not sample.text else "no_stored_vector"
            check.results.append({"chunk_id": sample.chunk_id, "reason": reason})
    if not check.similarities:
        raise Conflict("No embedded chunks are available to compare.")
    return check


async def _embed(embedder: Embedder, samples: list[Sample]) -> list[tuple[list[float], list[float]]]:
    """Each sample's title and text vectors, in one call; a provider failure is RAGFlow's `Embedding failure`."""
    texts = [text for sample in samples for text in (sample.document_name or "Title", sample.text)]
    try:
        vectors = await embedder.embed(texts)
    except DomainError:
        raise
    except Exception as error:
        raise UpstreamError(f"Embedding failure. {error}") from error
    return [(vectors[i], vectors[i + 1]) for i in range(0, len(vectors), 2)]


def _compare(check: EmbeddingCheck, sample: Sample, title: list[float], content: list[float]) -> None:
    stored = sample.vector or []
    if len(content) != len(stored):
        raise UpstreamError(
            f"Embedding failure. The dimension ({len(content)}) of given embedding model is different "
            f"from the original ({len(stored)})"
        )
    similarity, check.match_mode = cosine(content, stored), "content_only"
    mixed = [TITLE_WEIGHT * t + (1 - TITLE_WEIGHT) * c for t, c in zip(title, content, strict=True)]
    if (mixed_similarity := cosine(mixed, stored)) > similarity:
        similarity, check.match_mode = mixed_similarity, "title+content"
    check.similarities.append(similarity)
    check.results.append(
        {
            "chunk_id": sample.chunk_id,
            "doc_id": sample.document_id,
            "doc_name": sample.document_name,
            "vector_field": f"q_{len(stored)}_vec",  # RAGFlow's name for a vector of this size
            "vector_dim": len(stored),
            "cos_sim": round(similarity, 6),
        }
    )


async def reembed_dataset(db: AsyncSession, dataset: Dataset) -> int:
    """RAGFlow's `run_embedding`: every document of the dataset is parsed and embedded again."""
    ids = list(await db.scalars(select(Document.id).where(Document.dataset_id == dataset.id)))
    if not ids:
        raise Conflict(f"No documents in Dataset {dataset.id}")
    return (await start_parsing(db, dataset, ids)).done
