"""The ONNX Runtime encoders: exported offline into the data folder once, reused, rebuilt when broken, and in
agreement with torch's vectors."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from service.providers import onnx_export
from service.providers.embedding import BUILTIN, _model_path, load_embedder
from service.providers.onnx_export import GRAPH, MANIFEST, OnnxTransformer, cached_graph
from service.settings import DEFAULT_EMBED_BACKEND, Settings, SettingsError

MODEL = "all-MiniLM-L6-v2"
LONG = " ".join(
    f"Sentence {i} says that dietary fibre, {topic} and sleep change the risk of heart disease in older adults."
    for i, topic in enumerate(["coffee", "statins", "walking", "salt", "soy", "fish oil"] * 8)
)  # ~900 word-pieces: several windows
TEXTS = [
    "Do cholesterol statin drugs cause breast cancer?",
    "Breast cancer cells rely on cholesterol: statin use and survival in a Finnish cohort of 31,000 patients.",
    "hi",
    LONG,
]


@pytest.fixture(scope="module")
def offline() -> Iterator[None]:
    """No hub, and any other network attempt fails: the export must come from the packaged weights alone."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        for proxy in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
            patch.setenv(proxy, "http://127.0.0.1:9")
        yield


@pytest.fixture(scope="module")
def models(offline: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder's `models/`, with both ONNX graphs exported into it once for the module."""
    root = tmp_path_factory.mktemp("data") / "models"
    for backend in onnx_export.ONNX_BACKENDS:
        cached_graph(Path(_model_path(BUILTIN)), MODEL, root, backend)
    return root


def exports_counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every real export from now on (they still run)."""
    calls: list[str] = []
    real = onnx_export._export

    def counting(model_path: Path, folder: Path, quantised: bool) -> None:
        calls.append(folder.name)
        real(model_path, folder, quantised)

    monkeypatch.setattr(onnx_export, "_export", counting)
    return calls


def test_the_export_lands_in_the_data_folder_complete(models: Path) -> None:
    folder = models / f"{MODEL}-onnx"
    manifest = json.loads((folder / MANIFEST).read_text())
    assert sorted(path.name for path in folder.iterdir()) == [MANIFEST, GRAPH]  # no traced or fused leftovers
    assert manifest["source"]["backend"] == "onnx"
    assert not [path for path in models.iterdir() if path.is_dir() and path.name.startswith(".")]  # no scratch left


def test_a_valid_cache_is_reused_without_exporting(models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_export(*_: Any) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_export, "_export", no_export)
    before = (models / f"{MODEL}-onnx-int8" / MANIFEST).stat().st_mtime_ns
    graph = cached_graph(Path(_model_path(BUILTIN)), MODEL, models, "onnx-int8")
    assert graph == models / f"{MODEL}-onnx-int8" / GRAPH
    assert (models / f"{MODEL}-onnx-int8" / MANIFEST).stat().st_mtime_ns == before


@pytest.mark.parametrize("backend", onnx_export.ONNX_BACKENDS)
def test_onnx_vectors_agree_with_torch(models: Path, backend: str) -> None:
    onnx = load_embedder(BUILTIN, parallel=2, backend=backend, cache_dir=models)
    assert isinstance(onnx.model[0].model, OnnxTransformer)  # the forward pass really runs on ONNX Runtime
    torch = load_embedder(BUILTIN)
    assert len(onnx_windows := _windows(onnx, LONG)) > 2 and onnx_windows == _windows(torch, LONG)
    ours, theirs = np.array(onnx.encode(TEXTS)), np.array(torch.encode(TEXTS))
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.99 if backend == "onnx" else cosines[[0, 1, 3]].min() >= 0.99, cosines
    # int8 weights move a one-word text's vector most (measured 0.977 for "hi"; sentences ≥ 0.99).
    assert cosines[2] >= (0.9999 if backend == "onnx" else 0.97), cosines
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # Still the same meaning: a query is nearer its answer than an unrelated text, on both encoders.
    assert ours[0] @ ours[1] > ours[0] @ ours[2]


def _windows(embedder: Any, text: str) -> list[str]:
    from service.providers.windows import windows

    return windows(text, embedder._counter, embedder.window, embedder.overlap)


@pytest.mark.parametrize("backend", onnx_export.ONNX_BACKENDS)
async def test_a_vector_depends_on_its_text_alone(models: Path, backend: str) -> None:
    """Embedded alone, batched with others or coalesced from concurrent callers: the same vector (int8 quantises
    activations per forward pass, so a padded batch once moved a text's vector with its neighbours)."""
    embedder = load_embedder(BUILTIN, parallel=2, backend=backend, cache_dir=models)
    batched = np.array(embedder.encode(TEXTS))
    alone = np.array([embedder.encode([text])[0] for text in TEXTS])
    concurrent = await asyncio.gather(*(embedder.embed([text]) for text in TEXTS))
    assert np.allclose(batched, alone, atol=1e-6)
    assert np.allclose(np.array([vectors[0] for vectors in concurrent]), alone, atol=1e-6)


@pytest.mark.parametrize("damage", ["truncated graph", "no manifest", "foreign manifest"])
def test_a_broken_cache_is_exported_again(
    offline: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    root = tmp_path / "models"
    graph = cached_graph(Path(_model_path(BUILTIN)), MODEL, root, "onnx")
    size = graph.stat().st_size
    if damage == "truncated graph":  # a disk that lost the end of the file
        graph.write_bytes(graph.read_bytes()[: size // 3])
    elif damage == "no manifest":  # an export that stopped before its last step
        (graph.parent / MANIFEST).unlink()
    else:  # made by another recipe or library version
        manifest = json.loads((graph.parent / MANIFEST).read_text())
        manifest["source"]["recipe"] = -1
        (graph.parent / MANIFEST).write_text(json.dumps(manifest))
    calls = exports_counted(monkeypatch)

    again = cached_graph(Path(_model_path(BUILTIN)), MODEL, root, "onnx")
    assert len(calls) == 1 and again == graph and again.stat().st_size == size
    OnnxTransformer(again, None, threads=1)  # ONNX Runtime loads the rebuilt graph


def test_processes_starting_together_export_once(
    offline: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "models"
    calls = exports_counted(monkeypatch)
    graphs: list[Path] = []
    starters = [
        threading.Thread(target=lambda: graphs.append(cached_graph(Path(_model_path(BUILTIN)), MODEL, root, "onnx")))
        for _ in range(2)
    ]  # each opens the lock file itself, as a second process would: flock holds them apart all the same
    for starter in starters:
        starter.start()
    for starter in starters:
        starter.join()
    assert len(calls) == 1 and len(graphs) == 2 and graphs[0] == graphs[1]


def test_an_unknown_backend_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NECTAR_EMBED_BACKEND", "tensorrt")
    with pytest.raises(SettingsError, match=r"NECTAR_EMBED_BACKEND='tensorrt' is not one of torch, onnx, onnx-int8"):
        Settings.from_env()
    monkeypatch.setenv("NECTAR_EMBED_BACKEND", "ONNX-int8")
    assert Settings.from_env().embed_backend == "onnx-int8"
    monkeypatch.delenv("NECTAR_EMBED_BACKEND")
    assert Settings.from_env().embed_backend == DEFAULT_EMBED_BACKEND
    with pytest.raises(ValueError, match="unknown embedding backend 'openvino'"):
        load_embedder(BUILTIN, backend="openvino")


def test_the_model_folder_is_the_data_folders_unless_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NECTAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NECTAR_MODEL_DIR", raising=False)
    assert Settings.from_env().models_folder == tmp_path / "data" / "models"
    monkeypatch.setenv("NECTAR_MODEL_DIR", str(tmp_path / "shared"))
    assert Settings.from_env().models_folder == tmp_path / "shared"
