"""`nectar ingest | ask | search` run as a user runs them: subprocesses against one live `nectar serve`.

The server is started with no key, so it writes one to its data folder, and the client finds the server and
the key from NECTAR_PORT and NECTAR_DATA_DIR alone, as on the server's own machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.db.engine import make_engine, make_sessions, upgrade
from service.domain.tenants import add_api_key, create_tenant
from tests.clients.conftest import ROOT, start_server, stop_server
from tests.conftest import create_database

CORRUPT_DOCX = b"PK\x03\x04 this is no zip archive"


@dataclass
class Server:
    base_url: str
    data_dir: Path
    key: str

    def env(self) -> dict[str, str]:
        """What the client needs on the server's machine: no URL and no key, only where the server is."""
        env = {k: v for k, v in os.environ.items() if k not in ("NECTAR_API_KEY", "NECTAR_HOST")}
        port = self.base_url.rsplit(":", 1)[1]
        return {**env, "NECTAR_PORT": port, "NECTAR_DATA_DIR": str(self.data_dir), "COLUMNS": "250"}

    def get(self, path: str, key: str | None = None) -> Any:
        request = urllib.request.Request(
            self.base_url + "/api/v1" + path, headers={"Authorization": f"Bearer {key or self.key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            body = json.loads(reply.read())
        assert body["code"] == 0, body
        return body["data"]

    def post(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            self.base_url + "/api/v1" + path,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            answer = json.loads(reply.read())
        assert answer["code"] == 0, answer
        return answer["data"]

    def documents(self, dataset: str) -> list[dict[str, Any]]:
        dataset_id = self.get(f"/datasets?name={dataset}")[0]["id"]
        docs: list[dict[str, Any]] = self.get(f"/datasets/{dataset_id}/documents?page_size=100")["docs"]
        return docs


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture(scope="module")
async def database(server_url: str) -> str:
    """A database of this module's own: the server's first start on it makes the default tenant and key file."""
    url = await create_database(server_url)
    await upgrade(url)
    return url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[Server]:
    data_dir = Path(tempfile.mkdtemp(prefix="nectar-cli-"))
    process, base_url = start_server({"DATABASE_URL": database, "NECTAR_API_KEY": "", "NECTAR_DATA_DIR": str(data_dir)})
    try:
        yield Server(base_url, data_dir, (data_dir / "api_key").read_text().strip())
    finally:
        stop_server(process)


@pytest.fixture(scope="module")
async def other_key(database: str) -> AsyncIterator[str]:
    """A key of a second tenant."""
    engine = make_engine(database, pool_size=1)
    async with make_sessions(engine)() as db:
        tenant = await create_tenant(db, "neighbour")
        key = await add_api_key(db, tenant.id)
        await db.commit()
    await engine.dispose()
    yield key


def nectar(server: Server, *args: str, env: dict[str, str] | None = None) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "service", *args], env=env or server.env(), cwd=ROOT, capture_output=True, timeout=120
    )
    return Run(done.returncode, done.stdout.decode(), done.stderr.decode())


def write(root: Path, files: dict[str, bytes | str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Nested files to take, an excluded folder and glob, a hidden file, and two files that cannot be ingested."""
    return write(
        tmp_path_factory.mktemp("library"),
        {
            "bees.txt": "Bees make honey from the nectar of flowers.",
            "hive/combs.md": "# Combs\n\nWorkers build wax combs of hexagonal cells.",
            "hive/royal/queen.txt": "The queen lays up to two thousand eggs a day in summer.",
            "drafts/unfinished.txt": "an excluded folder",
            "hive/debug.log": "an excluded glob",
            ".cache/hidden.txt": "a hidden folder",
            "hive/broken.docx": CORRUPT_DOCX,
            "hive/photo.xyz": "an unknown type",
        },
    )


@pytest.fixture(scope="module")
def first_run(server: Server, library: Path) -> Run:
    return nectar(
        server, "ingest", str(library), "--dataset", "apiary", "--create", "--exclude", "drafts", "--exclude", "*.log"
    )


def table_row(output: str, file_name: str) -> str:
    rows = [line for line in output.splitlines() if file_name in line]
    assert len(rows) == 1, output
    return rows[0]


def test_ingest_walks_nested_folders_skips_excluded_and_stores_each_file_once(
    server: Server, library: Path, first_run: Run
) -> None:
    assert "Dataset 'apiary': 5 files: 3 parsed (3 chunks), 2 failed" in first_run.out, first_run.out + first_run.err
    docs = {doc["name"]: doc for doc in server.documents("apiary")}
    assert set(docs) == {"bees.txt", "combs.md", "queen.txt", "broken.docx"}
    assert [docs[name]["run"] for name in ("bees.txt", "combs.md", "queen.txt")] == ["DONE"] * 3
    queen = (library / "hive/royal/queen.txt").read_bytes()
    assert docs["queen.txt"]["content_sha256"] == hashlib.sha256(queen).hexdigest()
    assert "uploaded" in first_run.err and "parsed" in first_run.err  # the progress bars


def test_failing_files_are_in_the_final_table_with_why_and_a_non_zero_exit(first_run: Run) -> None:
    assert first_run.code == 1
    corrupt = table_row(first_run.out, "broken.docx")
    assert "failed" in corrupt and "parse" in corrupt and "not a zip file" in corrupt
    unknown = table_row(first_run.out, "photo.xyz")
    assert "failed" in unknown and "upload" in unknown and "not supported" in unknown
    assert "bees.txt" not in first_run.out  # the table lists only what did not get in


def test_second_run_uploads_nothing_new(server: Server, library: Path, first_run: Run) -> None:
    before = {doc["id"] for doc in server.documents("apiary")}
    again = nectar(server, "ingest", str(library), "--dataset", "apiary", "--exclude", "drafts", "--exclude", "*.log")
    assert "5 files: 0 parsed (0 chunks), 3 already in the dataset, 2 failed" in again.out, again.out
    assert {doc["id"] for doc in server.documents("apiary")} == before
    assert "--retry-failed" in table_row(again.out, "broken.docx") and again.code == 1
    retried = nectar(server, "ingest", str(library / "hive/broken.docx"), "--dataset", "apiary", "--retry-failed")
    row = table_row(retried.out, "broken.docx")
    assert "not a zip file" in row and "failed before" not in row and retried.code == 1  # parsed again, same end
    assert {doc["id"] for doc in server.documents("apiary")} == before


def test_a_load_left_half_done_resumes(server: Server, tmp_path: Path) -> None:
    """Files uploaded but never parsed (what an interrupted run leaves) are parsed, not uploaded again."""
    folder = write(tmp_path, {f"note{n}.txt": f"Field note {n} on foraging bees." for n in range(3)})
    dataset_id = server.post("/datasets", {"name": "notes"})["id"]
    for name in ("note0.txt", "note1.txt"):
        upload = httpx.post(
            f"{server.base_url}/api/v1/datasets/{dataset_id}/documents",
            headers={"Authorization": f"Bearer {server.key}"},
            files={"file": (name, (folder / name).read_bytes())},
        )
        assert upload.json()["code"] == 0
    left = {doc["name"]: doc["id"] for doc in server.documents("notes")}
    run = nectar(server, "ingest", str(folder), "--dataset", "notes")
    assert run.code == 0 and "3 files: 3 parsed (3 chunks)" in run.out, run.out + run.err
    docs = server.documents("notes")
    assert sorted(doc["name"] for doc in docs) == ["note0.txt", "note1.txt", "note2.txt"]
    assert {doc["name"]: doc["id"] for doc in docs if doc["name"] in left} == left
    assert {doc["run"] for doc in docs} == {"DONE"}


def test_ctrl_c_stops_cleanly_and_a_rerun_finishes(server: Server, tmp_path: Path) -> None:
    folder = write(tmp_path, {f"f{n:02}.txt": f"Observation {n}: a bee visited flower {n * 7}." for n in range(20)})
    args = [sys.executable, "-m", "service", "ingest", str(folder), "--dataset", "stopped", "--create"]
    process = subprocess.Popen(
        [*args, "--concurrency", "1"], env=server.env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _has_documents(server, "stopped"):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, out.decode() + err.decode()
    assert "interrupted" in out.decode() and "run again to" in out.decode() and "Traceback" not in err.decode()
    rerun = nectar(server, "ingest", str(folder), "--dataset", "stopped")
    assert rerun.code == 0, rerun.out + rerun.err
    docs = server.documents("stopped")
    assert sorted(doc["name"] for doc in docs) == sorted(f"f{n:02}.txt" for n in range(20))  # each once
    assert {doc["run"] for doc in docs} == {"DONE"}


def _has_documents(server: Server, dataset: str) -> bool:
    try:
        return bool(server.documents(dataset))
    except (IndexError, AssertionError):  # no such dataset yet
        return False


def test_chunk_method_makes_the_dataset_with_it_or_is_set_on_each_new_document(server: Server, tmp_path: Path) -> None:
    folder = write(tmp_path, {"one.txt": "First paragraph.\n\nSecond paragraph.", "two.txt": "Another text."})
    made = nectar(server, "ingest", str(folder / "one.txt"), "--dataset", "whole", "--create", "--chunk-method", "one")
    assert made.code == 0, made.out + made.err
    assert server.get("/datasets?name=whole")[0]["chunk_method"] == "one"
    server.post("/datasets", {"name": "plain"})
    given = nectar(server, "ingest", str(folder), "--dataset", "plain", "--chunk-method", "qa")
    assert given.code == 0, given.out + given.err
    assert {doc["name"]: doc["chunk_method"] for doc in server.documents("plain")} == {"one.txt": "qa", "two.txt": "qa"}
    assert server.get("/datasets?name=plain")[0]["chunk_method"] == "naive"
    refused = nectar(server, "ingest", str(folder / "one.txt"), "--dataset", "whole", "--chunk-method", "nonsense")
    assert refused.code == 0 and "1 already in the dataset" in refused.out  # a document there already stays as is
    wrong = nectar(server, "ingest", str(folder / "two.txt"), "--dataset", "whole", "--chunk-method", "nonsense")
    assert wrong.code == 1 and "chunk_method" in table_row(wrong.out, "two.txt"), wrong.out  # the server's reason


def test_search_prints_ranked_chunks(server: Server, first_run: Run) -> None:
    run = nectar(server, "search", "how many eggs does the queen lay", "--dataset", "apiary", "--top", "2")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith("1. ") and lines[0].endswith("queen.txt"), run.out
    assert "two thousand eggs" in lines[1] and len(lines) <= 4


def test_ask_prints_an_answer_with_its_citations(server: Server, first_run: Run) -> None:
    dataset_id = server.get("/datasets?name=apiary")[0]["id"]
    server.post("/chats", {"name": "beekeeper", "dataset_ids": [dataset_id]})
    run = nectar(server, "ask", "How many eggs does the queen lay?", "--chat", "beekeeper")
    assert run.code == 0, run.err
    answer, _, sources = run.out.partition("Sources:")
    assert "two thousand eggs" in answer and "[ID:0]" in answer
    assert sources.strip().splitlines()[0].startswith("[ID:0] queen.txt")


def test_another_tenant_neither_sees_nor_skips_my_files(server: Server, library: Path, other_key: str) -> None:
    flags = ["--url", server.base_url, "--api-key", other_key]
    unseen = nectar(server, "search", "queen", "--dataset", "apiary", *flags)
    assert unseen.code == 2 and "no dataset named 'apiary'" in unseen.err
    own = nectar(server, "ingest", str(library / "bees.txt"), "--dataset", "apiary", "--create", *flags)
    assert own.code == 0 and "1 file: 1 parsed" in own.out, own.out + own.err  # my copy does not count for them
    mine = server.documents("apiary")
    assert sum(doc["name"] == "bees.txt" for doc in mine) == 1


def test_setup_problems_exit_2_with_one_line(server: Server, library: Path) -> None:
    missing = nectar(server, "ingest", str(library), "--dataset", "nowhere")
    assert missing.code == 2 and "no dataset named 'nowhere': add --create" in missing.err
    typo = nectar(server, "ingest", str(library / "nope"), "--dataset", "apiary")
    assert typo.code == 2 and "no such file or folder" in typo.err
    refused = nectar(server, "search", "q", "--dataset", "apiary", "--api-key", "not-a-key")
    assert refused.code == 2 and "refused the API key" in refused.err
    keyless = nectar(server, "ask", "q", "--chat", "beekeeper", env={**server.env(), "NECTAR_DATA_DIR": "/nonexistent"})
    assert keyless.code == 2 and "no API key" in keyless.err
    for run in (missing, typo, refused, keyless):
        assert "Traceback" not in run.err and len(run.err.strip().splitlines()) == 1
