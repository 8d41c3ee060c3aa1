"""Static checks of docker/ (no Docker engine here): what the image build copies and imports must exist."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "docker" / "Dockerfile").read_text()


def test_every_copied_path_exists() -> None:
    sources = [line.split()[1] for line in DOCKERFILE.splitlines() if line.startswith("COPY ") and "--from" not in line]
    assert sources, "the Dockerfile copies nothing"
    assert [source for source in sources if not (ROOT / source).exists()] == []


def test_the_build_time_import_check_names_real_modules() -> None:
    """The build fails fast on `python -c "import …"`: a module renamed in the tree must be renamed there too."""
    [names] = re.findall(r'^RUN python -c "import ([\w., ]+);', DOCKERFILE, re.MULTILINE)
    for name in (part.strip() for part in names.split(",")):
        importlib.import_module(name)
