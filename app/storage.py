"""Uploaded files: one small interface over a folder (the default) or an S3-compatible store.

``STORAGE_URL`` picks the backend: unset, files live under ``instance/uploads``; ``s3://bucket/
prefix`` puts them in a bucket (credentials and region from the standard AWS environment
variables, ``STORAGE_ENDPOINT_URL`` for a store other than Amazon's), so several web hosts share
them. Either way:

- keys are random and say nothing about the file; the caller keeps the display name (cleaned by
  :func:`clean_filename`) and the content type next to the key in the database;
- what a file *is* comes from its bytes, never from its name: :meth:`Storage.put` sniffs the type
  and checks it and the size against an :class:`UploadRule` before anything is kept;
- downloads stream (memory stays flat however large the file) as attachments with ``nosniff``.

The backend is built per app by :func:`init_storage` and reached through :func:`storage`; nothing
connects before the first file is read or written.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import quote, urlsplit

import filetype
from flask import Flask, Response, current_app, send_file
from flask_babel import gettext as _

from app.services.errors import NotFound, ValidationError
from app.settings import ConfigError

__all__ = [
    "DOCUMENTS",
    "IMAGES",
    "SIGNATURES",
    "FolderStorage",
    "S3Storage",
    "Storage",
    "StoredFile",
    "UploadRule",
    "clean_filename",
    "content_disposition",
    "init_storage",
    "storage",
]

#: How a type is named in messages ("upload a PDF, PNG or JPEG file").
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
}

MB = 1024 * 1024


@dataclass(frozen=True)
class UploadRule:
    """What one use accepts: the content types (as sniffed from the bytes) and the most bytes."""

    name: str
    types: frozenset[str]
    max_bytes: int

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


# -- names --------------------------------------------------------------------------------------

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


# -- checking what comes in ---------------------------------------------------------------------

_HEAD = 8192  # as many bytes as filetype looks at
_CHUNK = 1024 * 1024
_KEY = re.compile(r"^[0-9a-f]{32}$")


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


def _receive(stream: Readable, rule: UploadRule, field: str | None, into: IO[bytes]) -> StoredFile:
    """Sniff, check and copy ``stream`` into ``into`` (a scratch file); raise before anything
    is kept. The key is made here; the backend moves the scratch file to it."""
    head = _read_head(stream)
    if not head:
        raise ValidationError(_("The file is empty."), field=field)
    kind = filetype.guess(head)
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
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        if size > rule.max_bytes:
            raise _too_large(rule, field)
        into.write(chunk)
    into.flush()
    return StoredFile(key=_new_key(), size=size, content_type=kind.mime, extension=kind.extension)


def _attachment(response: Response, name: str) -> Response:
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Private files: no shared cache keeps them, no back button shows them after sign-out.
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- the interface ------------------------------------------------------------------------------


class Storage:
    """Put a stream, open, size, delete, and answer a download. Unknown keys raise NotFound."""

    def put(self, stream: Readable, rule: UploadRule, field: str | None = None) -> StoredFile:
        """Check ``stream`` against ``rule`` and keep it under a new random key. Refused files
        raise ValidationError (for ``field``) and leave nothing behind."""
        raise NotImplementedError

    def open(self, key: str) -> IO[bytes]:
        """The file for reading, in binary; close it (``with storage().open(key) as f``)."""
        raise NotImplementedError

    def size(self, key: str) -> int:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Forget the file; deleting one that is already gone is not an error."""
        raise NotImplementedError

    def download(
        self, key: str, filename: str, content_type: str = "application/octet-stream"
    ) -> Response:
        """A streamed attachment named ``filename`` (cleaned again here)."""
        raise NotImplementedError

    @staticmethod
    def _check_key(key: str) -> str:
        if not isinstance(key, str) or not _KEY.match(key):
            raise NotFound(_("This file does not exist."))
        return key


class FolderStorage(Storage):
    """Files in a local folder, fanned out by the key's first two characters."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        key = self._check_key(key)
        return self.root / key[:2] / key

    def put(self, stream: Readable, rule: UploadRule, field: str | None = None) -> StoredFile:
        incoming = self.root / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        scratch = tempfile.NamedTemporaryFile(dir=incoming, delete=False)  # noqa: SIM115
        try:
            with scratch:
                stored = _receive(stream, rule, field, scratch)
                os.fsync(scratch.fileno())
            path = self._path(stored.key)
            path.parent.mkdir(exist_ok=True)
            os.replace(scratch.name, path)
        except BaseException:
            Path(scratch.name).unlink(missing_ok=True)
            raise
        return stored

    def open(self, key: str) -> IO[bytes]:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise NotFound(_("This file does not exist.")) from None

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise NotFound(_("This file does not exist.")) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def download(
        self, key: str, filename: str, content_type: str = "application/octet-stream"
    ) -> Response:
        handle = self.open(key)
        # A file object, not a path: what is sent is what was opened, even if the key is
        # deleted meanwhile; gunicorn still hands it to sendfile().
        response = send_file(handle, mimetype=content_type, conditional=False, etag=False)
        response.content_length = os.fstat(handle.fileno()).st_size
        return _attachment(response, filename)


class S3Storage(Storage):
    """Files in a bucket of an S3-compatible store, under ``prefix``."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        self.client_options = dict(client_options or {})
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """Made on first use, in the process that uses it (never before a fork)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    self._client = boto3.session.Session().client(
                        "s3",
                        endpoint_url=self.endpoint_url,
                        config=Config(retries={"mode": "standard"}),
                        **self.client_options,
                    )
        return self._client

    def _name(self, key: str) -> str:
        return self.prefix + self._check_key(key)

    @staticmethod
    def _missing(error: Exception) -> bool:
        from botocore.exceptions import ClientError

        if not isinstance(error, ClientError):
            return False
        code = str(error.response.get("Error", {}).get("Code", ""))
        return code in ("NoSuchKey", "404", "NotFound")

    def put(self, stream: Readable, rule: UploadRule, field: str | None = None) -> StoredFile:
        # Checked in full on this host first: a refused file never reaches the bucket.
        with tempfile.SpooledTemporaryFile(max_size=_CHUNK) as scratch:
            stored = _receive(stream, rule, field, scratch)
            scratch.seek(0)
            self.client.upload_fileobj(
                scratch,
                self.bucket,
                self._name(stored.key),
                ExtraArgs={"ContentType": stored.content_type},
            )
        return stored

    def _get(self, key: str) -> dict[str, Any]:
        name = self._name(key)
        try:
            return dict(self.client.get_object(Bucket=self.bucket, Key=name))
        except Exception as error:
            if self._missing(error):
                raise NotFound(_("This file does not exist.")) from None
            raise

    def open(self, key: str) -> IO[bytes]:
        body: IO[bytes] = self._get(key)["Body"]
        return body

    def size(self, key: str) -> int:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except Exception as error:
            if self._missing(error):
                raise NotFound(_("This file does not exist.")) from None
            raise
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def download(
        self, key: str, filename: str, content_type: str = "application/octet-stream"
    ) -> Response:
        found = self._get(key)
        body = found["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(64 * 1024)
            finally:
                body.close()

        response = Response(chunks(), mimetype=content_type, direct_passthrough=True)
        response.content_length = int(found["ContentLength"])
        response.call_on_close(body.close)
        return _attachment(response, filename)


# -- per app ------------------------------------------------------------------------------------

_EXTENSION = "portico.storage"


def storage_from_config(config: dict[str, Any]) -> Storage:
    """The backend STORAGE_URL names; a malformed one stops the app at start with a ConfigError."""
    url = config.get("STORAGE_URL") or ""
    parts = urlsplit(url)
    if config.get("STORAGE_ENDPOINT_URL") and parts.scheme != "s3":
        raise ConfigError("STORAGE_ENDPOINT_URL is set, but STORAGE_URL is not an s3:// address")
    if not url:
        return FolderStorage(Path(config["PORTICO_INSTANCE_PATH"]) / "uploads")
    if parts.scheme == "s3":
        bucket = parts.netloc
        if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", bucket) or parts.query:
            raise ConfigError(
                f"STORAGE_URL must look like s3://bucket/prefix (a bucket name of 3 to 63 "
                f"lower-case letters, digits, dots or hyphens), not {url!r}"
            )
        return S3Storage(bucket, parts.path, endpoint_url=config.get("STORAGE_ENDPOINT_URL"))
    if parts.scheme == "file" and not parts.netloc and parts.path.startswith("/"):
        return FolderStorage(Path(parts.path))
    raise ConfigError(
        f"STORAGE_URL must be s3://bucket/prefix or file:///absolute/folder, not {url!r}"
    )


def init_storage(app: Flask) -> None:
    app.extensions[_EXTENSION] = storage_from_config(app.config)


def storage() -> Storage:
    """The current app's file storage."""
    found: Storage = current_app.extensions[_EXTENSION]
    return found
