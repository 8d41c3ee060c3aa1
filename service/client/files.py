"""The files a `nectar ingest` run takes: the paths given, folders walked with include/exclude globs.

A glob without `/` matches a file's (or folder's) name at any depth, like .gitignore; one with `/` matches the
path relative to the folder given (fnmatch: `*` crosses `/`). Hidden files and folders (`.name`) are skipped
when walking; a file named on the command line is always taken.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class Globs:
    include: tuple[str, ...] = ()  # empty: every file
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class LocalFile:
    path: Path
    shown: str  # how the report names it: as given, or the folder given joined with the path inside it


def _matches(relative: PurePosixPath, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(str(relative) if "/" in p else relative.name, p.strip("/")) for p in patterns)


def _walk(root: Path, globs: Globs) -> list[LocalFile]:
    found = []
    for folder, subfolders, names in os.walk(root):
        here = PurePosixPath(Path(folder).relative_to(root).as_posix())
        subfolders[:] = sorted(
            name for name in subfolders if not name.startswith(".") and not _matches(here / name, globs.exclude)
        )
        for name in sorted(names):
            relative = here / name
            if name.startswith(".") or _matches(relative, globs.exclude):
                continue
            if globs.include and not _matches(relative, globs.include):
                continue
            found.append(LocalFile(Path(folder) / name, str(Path(root) / relative)))
    return found


def discover(paths: list[str], globs: Globs) -> list[LocalFile]:
    """Every file to ingest, each once, in a stable order; a path that does not exist raises FileNotFoundError."""
    files: dict[Path, LocalFile] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            walked = _walk(path, globs)
        elif path.is_file():
            walked = [LocalFile(path, given)]
        else:
            raise FileNotFoundError(f"no such file or folder: {given}")
        for item in walked:
            files.setdefault(item.path.resolve(), item)
    return list(files.values())


def read(path: Path) -> tuple[bytes, str]:
    """The file's bytes and their hex SHA-256 (what the server stores as the document's `content_sha256`)."""
    data = path.read_bytes()
    return data, hashlib.sha256(data).hexdigest()
