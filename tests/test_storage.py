"""File storage: one contract, held by the folder backend and by a real S3-compatible server
(moto's standalone server, started in this process on a free port for the test run)."""

from __future__ import annotations

import io
import re
import secrets
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask, abort, request
from werkzeug.datastructures import FileStorage

from app.services.errors import NotFound, ValidationError
from app.settings import ConfigError
from app.storage import (
    DOCUMENTS,
    IMAGES,
    SIGNATURES,
    FolderStorage,
    S3Storage,
    Storage,
    UploadRule,
    clean_filename,
    content_disposition,
    storage,
    storage_from_config,
)
from tests.conftest import free_port


def png_bytes() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x00\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def pdf_bytes(size: int = 4096) -> bytes:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    tail = b"\n%%EOF\n"
    return head + secrets.token_bytes(max(0, size - len(head) - len(tail))) + tail


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
PDF_ONLY = UploadRule("pdf only", frozenset({"application/pdf"}), 1024 * 1024)


# -- the two backends ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials the way production passes them: the standard AWS environment variables."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def s3_bucket(s3_endpoint: str, aws_env: None) -> str:
    import boto3

    name = f"portico-{secrets.token_hex(4)}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return name


@dataclass
class Backend:
    kind: str
    config: dict[str, str]
    listing: Callable[[], list[str]]

    @property
    def store(self) -> Storage:
        return storage_from_config(self.config)


@pytest.fixture(params=["folder", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Settings for one backend, and what it holds (every object, scratch files included)."""
    if request.param == "folder":
        root = tmp_path / "files"
        config = {"PORTICO_INSTANCE_PATH": str(tmp_path), "STORAGE_URL": f"file://{root}"}
        return Backend(
            "folder",
            config,
            lambda: sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()),
        )
    import boto3

    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    client = boto3.client("s3", endpoint_url=endpoint)
    config = {
        "PORTICO_INSTANCE_PATH": str(tmp_path),
        "STORAGE_URL": f"s3://{bucket}/portico/files/",
        "STORAGE_ENDPOINT_URL": endpoint,
    }

    def listing() -> list[str]:
        found = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        return sorted(item["Key"] for item in found)

    return Backend("s3", config, listing)


@pytest.fixture
def store(backend: Backend) -> Storage:
    return backend.store


# -- the contract -------------------------------------------------------------------------------


def test_put_open_size_delete_round_trip(store: Storage, backend: Backend) -> None:
    data = pdf_bytes(3 * 1024 * 1024 + 17)  # more than one chunk
    stored = store.put(io.BytesIO(data), DOCUMENTS)

    assert (stored.size, stored.content_type, stored.extension) == (
        len(data),
        "application/pdf",
        "pdf",
    )
    with store.open(stored.key) as handle:
        assert handle.read() == data
    assert store.size(stored.key) == len(data)
    assert len(backend.listing()) == 1

    store.delete(stored.key)
    assert backend.listing() == []
    with pytest.raises(NotFound, match="This file does not exist"):
        store.open(stored.key)
    with pytest.raises(NotFound, match="This file does not exist"):
        store.size(stored.key)
    store.delete(stored.key)  # already gone: not an error


def test_an_upload_from_a_form_is_taken_as_it_comes(store: Storage) -> None:
    upload = FileStorage(io.BytesIO(png_bytes()), filename="me.png", content_type="image/png")
    stored = store.put(upload, SIGNATURES)
    assert stored.content_type == "image/png"
    assert store.size(stored.key) == len(png_bytes())


def test_keys_are_random_and_say_nothing_about_the_file(store: Storage, backend: Backend) -> None:
    data = pdf_bytes()
    first = store.put(io.BytesIO(data), DOCUMENTS)
    second = store.put(io.BytesIO(data), DOCUMENTS)

    assert first.key != second.key
    for key in (first.key, second.key):
        assert re.fullmatch(r"[0-9a-f]{32}", key)
    names = backend.listing()
    assert len(names) == 2
    assert all(name.endswith((first.key, second.key)) for name in names)
    assert not any("pdf" in name for name in names)


@pytest.mark.parametrize(
    "key",
    [
        "../secret.txt",
        "../../etc/passwd",
        "/etc/passwd",
        "..",
        "",
        "A" * 32,  # upper case: never made by put
        "0" * 31 + "/",
        "0" * 32 + "/../secret.txt",
    ],
)
def test_keys_that_put_never_makes_are_not_found(
    store: Storage, backend: Backend, tmp_path: Path, key: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")

    with pytest.raises(NotFound):
        store.open(key)
    with pytest.raises(NotFound):
        store.size(key)
    with pytest.raises(NotFound):
        store.delete(key)
    assert secret.read_text() == "not yours"


def test_the_type_comes_from_the_bytes_not_the_name(store: Storage, backend: Backend) -> None:
    # A PNG renamed to .pdf is still a PNG; a PDF-only use refuses it.
    renamed = FileStorage(io.BytesIO(png_bytes()), filename="statement.pdf")
    with pytest.raises(ValidationError) as refused:
        store.put(renamed, PDF_ONLY, field="statement")
    assert refused.value.message == (
        "This kind of file (.png) is not accepted here. Accepted: PDF."
    )
    assert refused.value.field == "statement"

    with pytest.raises(ValidationError, match=r"\(\.exe\) is not accepted here"):
        store.put(FileStorage(io.BytesIO(EXE), filename="invoice.pdf"), DOCUMENTS)
    with pytest.raises(
        ValidationError,
        match=r"^This kind of file is not accepted here\. Accepted: GIF, JPEG, PNG or WebP\.$",
    ):
        store.put(io.BytesIO(b"just some text, no picture\n" * 10), IMAGES)
    with pytest.raises(ValidationError, match="The file is empty"):
        store.put(io.BytesIO(b""), DOCUMENTS)
    with pytest.raises(ValidationError, match=r"Accepted: PNG\.$"):
        store.put(io.BytesIO(pdf_bytes()), SIGNATURES)

    assert backend.listing() == []


def test_a_file_over_the_limit_is_refused_before_anything_is_kept(
    store: Storage, backend: Backend
) -> None:
    rule = UploadRule("small", frozenset({"application/pdf"}), 64 * 1024)
    stream = io.BytesIO(pdf_bytes(10 * 1024 * 1024))

    with pytest.raises(ValidationError) as refused:
        store.put(stream, rule, field="upload")

    assert refused.value.message == "The file is larger than 64 KB; upload a smaller one."
    assert refused.value.field == "upload"
    assert stream.tell() < 2 * 1024 * 1024, "stopped reading soon after the limit"
    assert backend.listing() == []

    exactly = store.put(io.BytesIO(pdf_bytes(64 * 1024)), rule)
    assert exactly.size == 64 * 1024


def test_a_download_streams_as_a_named_attachment(backend: Backend, make_app) -> None:  # type: ignore[no-untyped-def]
    app: Flask = make_app(**backend.config)

    @app.get("/test-files/<key>")
    def download(key: str):  # type: ignore[no-untyped-def]
        try:
            return storage().download(key, request.args["name"], request.args["type"])
        except NotFound:
            abort(404)

    data = pdf_bytes(2 * 1024 * 1024)
    with app.app_context():
        stored = storage().put(io.BytesIO(data), DOCUMENTS)
        # The response is a stream over the stored file, not the file read into memory.
        with app.test_request_context():
            response = storage().download(stored.key, "x.pdf", stored.content_type)
            assert response.is_streamed
            response.close()

    client = app.test_client()
    name = "Póliza nº 7 / José.pdf"
    reply = client.get(
        f"/test-files/{stored.key}",
        query_string={"name": name, "type": stored.content_type},
        buffered=True,  # read to the end and closed, as a server does
    )

    assert reply.status_code == 200
    assert reply.data == data
    assert reply.headers["Content-Type"] == "application/pdf"
    assert reply.headers["Content-Length"] == str(len(data))
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Content-Disposition"] == (
        "attachment; filename=\"Jose.pdf\"; filename*=UTF-8''Jos%C3%A9.pdf"
    )
    assert "no-store" in reply.headers["Cache-Control"]

    missing = client.get(f"/test-files/{'0' * 32}", query_string={"name": "a", "type": "b"})
    assert missing.status_code == 404


def test_the_app_binds_the_configured_backend_and_connects_to_nothing(
    app: Flask, s3_endpoint: str
) -> None:
    with app.app_context():
        bound = storage()
    assert isinstance(bound, FolderStorage)
    assert bound.root == Path(app.config["PORTICO_INSTANCE_PATH"]) / "uploads"

    s3 = storage_from_config(
        {
            "PORTICO_INSTANCE_PATH": "/unused",
            "STORAGE_URL": "s3://office-files/portico",
            "STORAGE_ENDPOINT_URL": s3_endpoint,
        }
    )
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix, s3.endpoint_url) == ("office-files", "portico/", s3_endpoint)
    assert s3._client is None  # made on first use, not at start


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"STORAGE_URL": "s3://ab/x"}, "bucket name of 3 to 63"),
        ({"STORAGE_URL": "s3://Office_Files"}, "bucket name of 3 to 63"),
        ({"STORAGE_URL": "ftp://files.example.com/x"}, "s3://bucket/prefix or file:///"),
        ({"STORAGE_URL": "uploads"}, "s3://bucket/prefix or file:///"),
        ({"STORAGE_ENDPOINT_URL": "http://127.0.0.1:9000"}, "STORAGE_URL is not an s3://"),
    ],
)
def test_a_malformed_storage_setting_stops_the_start(
    make_app, settings: dict[str, str], message: str
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=message):
        make_app(**settings)


# -- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, extension, cleaned",
    [
        ("../../etc/passwd", None, "passwd"),
        ("..\\..\\windows\\win.ini", None, "win.ini"),
        ("C:\\Users\\ana\\Desktop\\póliza 2024.pdf", None, "póliza 2024.pdf"),
        ("invoice\u202egpj.exe", None, "invoicegpj.exe"),  # no right-to-left trick
        ("a\x00b\nc\td.pdf", None, "ab c d.pdf"),
        ('what?<is>"this".pdf', None, "what__is__this_.pdf"),
        ("  ..hidden. ", None, "hidden"),
        ("", None, "file"),
        (None, "pdf", "file.pdf"),
        ("...", None, "file"),
        ("scan.pdf", "png", "scan.pdf.png"),  # the name said PDF, the bytes said PNG
        ("photo.JPEG", "jpg", "photo.JPEG"),
        ("report", "pdf", "report.pdf"),
        ("Zoë Núñez.PDF", "pdf", "Zoë Núñez.PDF"),
    ],
)
def test_clean_filename(name: str | None, extension: str | None, cleaned: str) -> None:
    assert clean_filename(name, extension) == cleaned


def test_a_long_name_is_shortened_and_keeps_its_extension() -> None:
    cleaned = clean_filename("x" * 300 + ".xlsx")
    assert len(cleaned) == 120
    assert cleaned.endswith("x.xlsx")
    assert clean_filename("y" * 300 + ".toolongextension") == "y" * 120


def test_content_disposition_carries_the_exact_name_and_an_ascii_fallback() -> None:
    assert content_disposition("report.pdf") == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    )
    assert content_disposition('Zoë "Q1"; tax.pdf') == (
        "attachment; filename=\"Zoe _Q1_; tax.pdf\"; filename*=UTF-8''Zo%C3%AB%20_Q1_%3B%20tax.pdf"
    )
    assert content_disposition("契約.pdf") == (
        "attachment; filename=\"file.pdf\"; filename*=UTF-8''%E5%A5%91%E7%B4%84.pdf"
    )
