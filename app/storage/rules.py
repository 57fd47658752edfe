"""What one use of storage accepts, and the check every file passes before it is kept: the
type sniffed from its bytes (never its name) against an allow-list, and its size."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import IO, Protocol

import filetype
from flask_babel import gettext as _

from app.services.errors import ValidationError

#: How a type is named in messages ("Accepted: JPEG, PDF or PNG.").
TYPE_LABELS = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "image/heic": "HEIC",
    "image/tiff": "TIFF",
    "application/msword": "Word (.doc)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (.docx)",
    "application/vnd.ms-excel": "Excel (.xls)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (.xlsx)",
    "application/vnd.oasis.opendocument.text": "OpenDocument text (.odt)",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet (.ods)",
    "text/plain": "plain text (.txt, .csv)",
}

MB = 1024 * 1024


@dataclass(frozen=True)
class UploadRule:
    """What one use accepts: the content types (as sniffed from the bytes) and the most bytes."""

    name: str
    types: frozenset[str]
    max_bytes: int

    def with_max_bytes(self, max_bytes: int) -> UploadRule:
        """The same rule with another size limit (one set by the office)."""
        return UploadRule(self.name, self.types, max_bytes)

    def allows(self, mime: str) -> bool:
        return mime in self.types

    def describe_types(self) -> str:
        labels = sorted(TYPE_LABELS.get(mime, mime) for mime in self.types)
        if len(labels) == 1:
            return labels[0]
        return _("%(first)s or %(last)s", first=", ".join(labels[:-1]), last=labels[-1])


#: Files staff and clients share on a record: scans, photos, office documents. Below the
#: request limit (PORTICO_MAX_REQUEST_MB, 25 by default) so a form around it still fits.
DOCUMENTS = UploadRule(
    "documents",
    frozenset(
        {
            "application/pdf",
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "image/heic",
            "image/tiff",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.oasis.opendocument.text",
            "application/vnd.oasis.opendocument.spreadsheet",
            "text/plain",
        }
    ),
    20 * MB,
)
#: Pictures shown in a page (a photo of a card, a logo): the types every browser displays.
IMAGES = UploadRule(
    "images",
    frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"}),
    10 * MB,
)
#: A drawn signature as the signing pad exports it (a PNG of some 10 KB).
SIGNATURES = UploadRule("signatures", frozenset({"image/png"}), 1 * MB)


@dataclass(frozen=True)
class StoredFile:
    """What :meth:`Storage.put` kept: keep all of it with the display name in the database."""

    key: str
    size: int
    content_type: str
    extension: str


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


# -- the check ----------------------------------------------------------------------------------

_HEAD = 8192  # as many bytes as filetype looks at
CHUNK = 1024 * 1024
#: What every key looks like; anything else (a path, a name) is not found, never looked up.
KEY = re.compile(r"^[0-9a-f]{32}$")


def _new_key() -> str:
    return secrets.token_hex(16)


def _read_head(stream: Readable) -> bytes:
    head = b""
    while len(head) < _HEAD:
        chunk = stream.read(_HEAD - len(head))
        if not chunk:
            break
        head += chunk
    return head


def _too_large(rule: UploadRule, field: str | None) -> ValidationError:
    return ValidationError(
        _(
            "The file is larger than %(size)s; upload a smaller one.",
            size=_human_size(rule.max_bytes),
        ),
        field=field,
    )


def _human_size(count: int) -> str:
    if count >= MB:
        return f"{count / MB:g} MB"
    if count >= 1024:
        return f"{count / 1024:g} KB"
    return f"{count} bytes"


@dataclass(frozen=True)
class _Kind:
    mime: str
    extension: str


#: Markup a browser would run or draw: web pages, SVG and XML are never plain text here. The
#: short tags are those a browser sniffing the bytes takes for a web page (WHATWG MIME
#: Sniffing, "HTML"), followed by a space, ">" or "/".
_MARKUP = re.compile(
    rb"^\s*<(!doctype|html|head|body|script|svg|\?xml|iframe|!--"
    rb"|(a|b|br|p|h1|div|font|table|style|title|img)[\s>/])",
    re.IGNORECASE,
)


def _plain_text(head: bytes) -> _Kind | None:
    """Text no sniffer names: UTF-8 (or ASCII) without NUL bytes or markup at its start."""
    sample = head.removeprefix(b"\xef\xbb\xbf")
    if b"\x00" in sample or _MARKUP.match(sample):
        return None
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(sample) - 3:  # not just a character cut at the end of the head
            return None
    return _Kind("text/plain", "txt")


def receive(stream: Readable, rule: UploadRule, field: str | None, into: IO[bytes]) -> StoredFile:
    """Sniff, check and copy ``stream`` into ``into`` (a scratch file); raise before anything
    is kept. The key is made here; the backend moves the scratch file to it."""
    head = _read_head(stream)
    if not head:
        raise ValidationError(_("The file is empty."), field=field)
    kind = filetype.guess(head)
    if kind is None and rule.allows("text/plain"):
        kind = _plain_text(head)
    if kind is None or not rule.allows(kind.mime):
        if kind is None:
            message = _(
                "This kind of file is not accepted here. Accepted: %(types)s.",
                types=rule.describe_types(),
            )
        else:
            message = _(
                "This kind of file (.%(extension)s) is not accepted here. Accepted: %(types)s.",
                extension=kind.extension,
                types=rule.describe_types(),
            )
        raise ValidationError(message, field=field)
    size = len(head)
    if size > rule.max_bytes:
        raise _too_large(rule, field)
    into.write(head)
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > rule.max_bytes:
            raise _too_large(rule, field)
        into.write(chunk)
    into.flush()
    return StoredFile(key=_new_key(), size=size, content_type=kind.mime, extension=kind.extension)
