"""Display names: what the person called the file, made safe to show and to offer back."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

_MAX_NAME = 120
_MAX_EXTENSION = 10
#: Characters Windows refuses in file names; the name goes into a Save As dialog.
_RESERVED = re.compile(r'[<>:"/\\|?*]')
_SAME_EXTENSION = {"jpeg": "jpg", "tiff": "tif"}


def clean_filename(name: str | None, extension: str | None = None) -> str:
    """A display name safe to show and to offer as a download: no folders, no control or
    direction-changing characters, at most 120 characters, the extension kept. With
    ``extension`` (the sniffed one, e.g. ``"pdf"``) a name that does not end in it gets it
    added, so the saved file opens with the right program."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]  # browsers on Windows may send C:\Users\...\file.pdf
    text = "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    text = _RESERVED.sub("_", text)
    text = re.sub(r" {2,}", " ", text).strip(" .")
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or len(ext) > _MAX_EXTENSION or not ext.isalnum():
        stem, ext = text, ""
    wanted = (extension or "").lower().lstrip(".")
    if wanted and _same(ext) != _same(wanted):
        stem, ext = text, wanted  # "scan.pdf" that is really a PNG -> "scan.pdf.png"
    stem = stem.strip(" .") or "file"
    suffix = f".{ext}" if ext else ""
    return stem[: _MAX_NAME - len(suffix)].rstrip(" .") + suffix


def _same(extension: str) -> str:
    lowered = extension.lower()
    return _SAME_EXTENSION.get(lowered, lowered)


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the exact name as RFC 6266's ``filename*``."""
    name = clean_filename(name)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    fallback = (_ascii(stem) or "file") + (f".{_ascii(ext)}" if ext else "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _ascii(text: str) -> str:
    """Letters without their accents, anything else outside plain ASCII dropped, and no
    character that needs escaping in a quoted header value."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r'["\\]', "_", text).strip(" .")
