"""The office logo lives in the file storage like every other file, so every web host (and the
worker that draws PDFs) sees the same one."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services import portal_settings
from app.services.errors import NotFound, ValidationError
from app.storage import storage
from tests.views.test_admin_branding import PNG, SVG


def _kept_keys(app) -> set[str]:
    folder = Path(app.config["PORTICO_INSTANCE_PATH"]) / "uploads"
    return {p.name for p in folder.rglob("*") if p.is_file() and "branding" not in p.parts}


def test_a_logo_is_kept_under_a_random_key_and_replacing_it_removes_the_old_file(app, ctx):
    settings = portal_settings.get_settings()
    first = portal_settings.store_logo(settings, PNG)
    key = first.split(".")[0]
    assert first.endswith(".png") and len(key) == 32
    assert storage().size(key) == len(PNG)
    found = portal_settings.logo(settings)
    assert found is not None and (found.data, found.content_type) == (PNG, "image/png")

    second = portal_settings.store_logo(settings, PNG)
    assert second != first
    with pytest.raises(NotFound):
        storage().size(key)  # the replaced file is gone
    portal_settings.delete_logo(settings)
    assert portal_settings.logo(settings) is None
    assert second.split(".")[0] not in _kept_keys(app)


def test_a_logo_that_is_not_an_image_is_refused_and_nothing_is_kept(app, ctx):
    settings = portal_settings.get_settings()
    before = _kept_keys(app)
    with pytest.raises(ValidationError) as refused:
        portal_settings.store_logo(settings, SVG)
    assert refused.value.field == "logo_upload"
    assert _kept_keys(app) == before and settings.logo_file is None


def test_a_logo_kept_before_the_storage_is_still_shown(app, ctx):
    folder = Path(app.config["PORTICO_INSTANCE_PATH"]) / "uploads" / "branding"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "logo.png").write_bytes(PNG)
    settings = portal_settings.get_settings()
    settings.logo_file = "logo.png"
    found = portal_settings.logo(settings)
    assert found is not None and found.data == PNG
    portal_settings.delete_logo(settings)  # removing it removes the old file too
    assert not (folder / "logo.png").exists()
