"""Files in a local folder (``instance/uploads`` unless STORAGE_URL names another)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO

from flask import Response, send_file
from flask_babel import gettext as _

from app.services.errors import NotFound
from app.storage.base import Storage, as_attachment
from app.storage.rules import Readable, StoredFile, UploadRule, receive


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
                stored = receive(stream, rule, field, scratch)
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
        return as_attachment(response, filename)
