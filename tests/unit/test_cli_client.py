"""The client side of `nectar ingest`: which files a walk takes, where it looks for the server, and its layering."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.client.connection import NoConnection, connection
from service.client.files import Globs, discover
from service.settings import Settings
from tests.unit.test_layers import violations

NOT_FOR_THE_CLIENT = (
    *("service.domain", "service.db", "service.api", "service.jobs", "service.runtime", "service.app"),
    *("service.deps", "service.providers", "service.text", "workers", "sqlalchemy"),
)


def test_the_client_reaches_the_server_only_over_http() -> None:
    assert violations("service/client", NOT_FOR_THE_CLIENT) == []


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in (
        "a.txt",
        "b.pdf",
        "docs/c.txt",
        "docs/drafts/d.txt",
        "docs/deep/e.md",
        "drafts/f.txt",
        ".git/config",
        "docs/.hidden.txt",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    return tmp_path


def taken(tree: Path, globs: Globs, *paths: str) -> list[str]:
    return [item.path.relative_to(tree).as_posix() for item in discover([str(tree / p) for p in paths or [""]], globs)]


def test_a_walk_takes_nested_files_but_not_hidden_ones(tree: Path) -> None:
    assert taken(tree, Globs()) == [
        "a.txt",
        "b.pdf",
        "docs/c.txt",
        "docs/deep/e.md",
        "docs/drafts/d.txt",
        "drafts/f.txt",
    ]


def test_a_glob_without_slash_matches_names_at_any_depth(tree: Path) -> None:
    assert taken(tree, Globs(include=("*.txt",))) == ["a.txt", "docs/c.txt", "docs/drafts/d.txt", "drafts/f.txt"]
    assert taken(tree, Globs(exclude=("drafts",))) == ["a.txt", "b.pdf", "docs/c.txt", "docs/deep/e.md"]


def test_a_glob_with_slash_matches_the_path_inside_the_folder_given(tree: Path) -> None:
    assert taken(tree, Globs(exclude=("docs/*",))) == ["a.txt", "b.pdf", "drafts/f.txt"]
    assert taken(tree, Globs(include=("docs/*.txt",))) == ["docs/c.txt", "docs/drafts/d.txt"]


def test_files_named_are_taken_whatever_the_globs_and_each_only_once(tree: Path) -> None:
    assert taken(tree, Globs(exclude=("*.txt",)), "docs/.hidden.txt", "docs", "docs/.hidden.txt") == [
        "docs/.hidden.txt",
        "docs/deep/e.md",
    ]


def test_a_missing_path_is_refused_before_anything_is_sent(tree: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        discover([str(tree / "a.txt"), str(tree / "typo")], Globs())


def test_the_server_defaults_come_from_the_settings_nectar_serve_reads(tmp_path: Path) -> None:
    (tmp_path / "api_key").write_text("nectar-from-file\n")
    assert connection(Settings(data_dir=tmp_path, host="0.0.0.0", port=9400), None, None).api_key == "nectar-from-file"
    assert connection(Settings(data_dir=tmp_path, host="::", port=1), None, None).base_url == "http://[::1]:1"
    seeded = connection(Settings(data_dir=tmp_path, host="0.0.0.0", port=9400, api_key="seeded"), None, None)
    assert (seeded.base_url, seeded.api_key) == ("http://127.0.0.1:9400", "seeded")
    given = connection(Settings(data_dir=tmp_path), "https://far.example/", "flag")
    assert (given.base_url, given.api_key) == ("https://far.example/", "flag")
    with pytest.raises(NoConnection, match="no API key"):
        connection(Settings(data_dir=tmp_path / "empty"), None, None)
