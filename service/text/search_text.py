"""What goes into (and queries) the full-text index.

PostgreSQL's parser treats a run of CJK characters as one word, so a Japanese or Chinese query would only
match the exact same run. Runs of CJK are therefore indexed, and queried, as overlapping character bigrams.
"""

from __future__ import annotations

import re

TS_CONFIG = "english"
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")


def _bigrams(match: re.Match[str]) -> str:
    run = match.group()
    if len(run) == 1:
        return f" {run} "
    return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "


def index_text(*parts: str) -> str:
    """The text PostgreSQL turns into the chunk's tsvector (and a query into its tsquery)."""
    return _CJK_RUN.sub(_bigrams, "\n".join(part for part in parts if part))
