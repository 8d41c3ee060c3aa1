"""What autogenerate compares: pgqueuer's tables and our hand-written partial indexes are not model objects."""

from __future__ import annotations

HAND_WRITTEN = {"ix_chunks_embedding_minilm"}


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    if name is None:
        return True
    if type_ == "table" and name.startswith("pgqueuer"):
        return False
    return not (type_ == "index" and (name in HAND_WRITTEN or name.startswith("pgqueuer")))
