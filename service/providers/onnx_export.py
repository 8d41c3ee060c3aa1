"""The packaged sentence-transformers model as an ONNX Runtime graph: exported once, offline, cached in the data folder.

sentence-transformers' own ONNX backend needs `optimum-onnx`, whose releases require transformers < 4.58 (Nectar
runs transformers 5), so the graph is exported here with `torch.onnx` from the packaged weights (no network),
fused by ONNX Runtime's transformer optimizer and, for `onnx-int8`, quantised with dynamic int8 weights.

The export lands in `<data>/models/<model>-<backend>/`: built in a temporary folder beside it, then renamed into
place, under a file lock, so a server and a worker starting together export once and never read a half-written
graph. `manifest.json`, written last, records what the graph was made from and its checksum: a folder without a
manifest that matches (an interrupted export, a disk that lost data, another Nectar version) is exported again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from service.settings import EMBED_BACKENDS

ONNX_BACKENDS = tuple(backend for backend in EMBED_BACKENDS if backend != "torch")
GRAPH = "model.onnx"
MANIFEST = "manifest.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Bumped whenever the export recipe changes, so caches made by an older recipe are rebuilt.
RECIPE = 1


def cached_graph(model_path: Path, model_name: str, cache_root: Path, backend: str) -> Path:
    """The ONNX graph of `model_path` for `backend`, exported into `cache_root` unless a valid one is there."""
    if backend not in ONNX_BACKENDS:
        raise ValueError(f"not an ONNX backend: {backend!r} (use one of {', '.join(ONNX_BACKENDS)})")
    target = cache_root / f"{model_name}-{backend}"
    expected = _source(model_path, backend)
    if _valid(target, expected):
        return target / GRAPH
    cache_root.mkdir(parents=True, exist_ok=True)
    with _exclusive(cache_root / f".{target.name}.lock"):
        if not _valid(target, expected):  # another process may have exported it while this one waited
            _export_into_place(model_path, target, backend, expected)
    return target / GRAPH


def _source(model_path: Path, backend: str) -> dict[str, Any]:
    """What a graph is made from: a cache made from anything else is stale."""
    return {
        "recipe": RECIPE,
        "backend": backend,
        "weights_sha256": _sha256(model_path / "model.safetensors"),
        "torch": metadata.version("torch"),
        "onnxruntime": metadata.version("onnxruntime"),
    }


def _valid(target: Path, expected: dict[str, Any]) -> bool:
    try:
        manifest = json.loads((target / MANIFEST).read_text())
        return bool(manifest["source"] == expected and manifest["graph_sha256"] == _sha256(target / GRAPH))
    except (OSError, ValueError, KeyError, TypeError):  # missing, truncated or foreign: not a usable cache
        return False


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _export_into_place(model_path: Path, target: Path, backend: str, source: dict[str, Any]) -> None:
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _export(model_path, scratch, quantised=backend == "onnx-int8")
        manifest = {"source": source, "graph_sha256": _sha256(scratch / GRAPH)}
        (scratch / MANIFEST).write_text(json.dumps(manifest, indent=2))
        if target.exists():  # a stale or broken cache: moved aside first, as a folder cannot be renamed onto one
            stale = Path(tempfile.mkdtemp(prefix=f".{target.name}-stale-", dir=target.parent))
            target.rename(stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _LastHiddenState(torch.nn.Module):
    """The transformer with the three text inputs by name and its token embeddings as the one output."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> Any:
        return self.model(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state


def _export(model_path: Path, folder: Path, quantised: bool) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel, AutoTokenizer

    # Eager attention traces to the pattern ONNX Runtime fuses into its Attention kernel; SDPA's does not fuse.
    model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager").eval()
    sample = AutoTokenizer.from_pretrained(str(model_path))(["a sample", "a longer sample text"], padding=True)
    traced = folder / "traced.onnx"
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes, on every export
        torch.onnx.export(
            _LastHiddenState(model),
            tuple(torch.tensor(sample[name]) for name in INPUTS),
            str(traced),
            input_names=list(INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,  # the dynamo exporter's graph of this model is not fused by the optimizer (measured)
        )
    config = model.config
    fused = optimizer.optimize_model(
        str(traced), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
    )
    if not quantised:
        fused.save_model_to_file(str(folder / GRAPH))
    else:
        fused.save_model_to_file(str(folder / "fused.onnx"))
        # Per-channel weights with a reduced range: plain int8 weights saturate on CPUs without VNNI (AVX2), which
        # cost 0.05 of cosine against torch on NFCorpus texts; these keep ≥ 0.99.
        quantize_dynamic(
            str(folder / "fused.onnx"),
            str(folder / GRAPH),
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            extra_options={"DefaultTensorType": 1},  # FLOAT, for outputs of the fused (com.microsoft) operators
        )
        (folder / "fused.onnx").unlink()
    traced.unlink()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        while block := data.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class OnnxTransformer(torch.nn.Module):
    """Stands in for the Hugging Face model inside a SentenceTransformer: same inputs, token embeddings out.

    sentence-transformers keeps tokenizing, batching, pooling and normalising; only the forward pass runs on
    ONNX Runtime. `InferenceSession.run` is thread-safe, so the parallel encoders share one session.
    """

    def __init__(self, graph: Path, config: Any, threads: int) -> None:
        import onnxruntime

        super().__init__()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # 0: ONNX Runtime's default, every core
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.config = config
        self._inputs = [item.name for item in self.session.get_inputs()]

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def forward(self, **features: Any) -> dict[str, torch.Tensor]:
        feed: dict[str, npt.NDArray[np.int64]] = {
            name: features[name].numpy().astype(np.int64, copy=False) for name in self._inputs
        }
        [hidden] = self.session.run(["last_hidden_state"], feed)
        return {"last_hidden_state": torch.from_numpy(hidden)}
