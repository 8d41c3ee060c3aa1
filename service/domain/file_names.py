"""The name an uploaded file is shown and downloaded as: one rule for every route that names a document."""

from __future__ import annotations

import re

from service.errors import Invalid

# Marks and embeddings/overrides/isolates: they make a name read otherwise than it is (`report\u202etxt.exe`
# shows as `reportexe.txt`), in the document list and in the download dialog.
BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SEPARATORS = re.compile(r"[\\/]")  # both: a Windows client sends `C:\Users\me\a.txt`


def file_name(given: str) -> str:
    """`given` without its path components (`../../etc/passwd.txt` → `passwd.txt`); bidi controls refused.

    A path would be offered as the download's name, which a careless client writes outside its folder. Bidi
    controls are refused rather than removed, so that the uploader learns why the name changed nothing.
    """
    found = sorted({f"U+{ord(char):04X}" for char in given if char in BIDI_CONTROLS})
    if found:
        raise Invalid(f"File name must not contain bidirectional control characters ({', '.join(found)}).")
    name = _SEPARATORS.split(given)[-1]
    if name in ("", ".", ".."):
        raise Invalid("File name must name a file, not a folder.")
    return name
