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

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app

from app.settings import ConfigError
from app.storage.base import Storage
from app.storage.folder import FolderStorage
from app.storage.names import clean_filename, content_disposition
from app.storage.rules import DOCUMENTS, IMAGES, SIGNATURES, StoredFile, UploadRule
from app.storage.s3 import S3Storage

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
    "storage_from_config",
]

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
