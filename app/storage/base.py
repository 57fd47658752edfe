"""The interface every backend keeps, and the headers every download carries."""

from __future__ import annotations

from typing import IO

from flask import Response
from flask_babel import gettext as _

from app.services.errors import NotFound
from app.storage.names import content_disposition
from app.storage.rules import KEY, Readable, StoredFile, UploadRule


def as_attachment(response: Response, name: str) -> Response:
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Private files: no shared cache keeps them, no back button shows them after sign-out.
    response.headers["Cache-Control"] = "private, no-store"
    return response


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
        if not isinstance(key, str) or not KEY.match(key):
            raise NotFound(_("This file does not exist."))
        return key
