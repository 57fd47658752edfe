"""Files in a bucket of an S3-compatible store (STORAGE_URL=s3://bucket/prefix), via boto3."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Any

from flask import Response
from flask_babel import gettext as _

from app.services.errors import NotFound
from app.storage.base import Storage, as_attachment
from app.storage.rules import CHUNK, Readable, StoredFile, UploadRule, receive


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
        with tempfile.SpooledTemporaryFile(max_size=CHUNK) as scratch:
            stored = receive(stream, rule, field, scratch)
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
        return as_attachment(response, filename)
