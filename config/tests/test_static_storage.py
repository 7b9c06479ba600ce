"""The static files storages remember the URLs they answered (config.static_storage): the same
URL as the storage they extend, worked out once per name."""

from __future__ import annotations

import json

import pytest
from django.contrib.staticfiles.storage import StaticFilesStorage, staticfiles_storage
from django.core.files.storage import FileSystemStorage
from django.template import engines
from django.templatetags.static import static
from whitenoise.storage import CompressedManifestStaticFilesStorage

from config.static_storage import CachedManifestStaticFilesStorage, CachedStaticFilesStorage

ICON = "img/avatar-default.svg"
HASHED_ICON = "img/avatar-default.0123456789ab.svg"


def _counting(monkeypatch, owner, attribute: str) -> list[str]:
    """Counts the calls of ``owner.attribute`` (still calling it)."""
    calls: list[str] = []
    original = getattr(owner, attribute)

    def counted(*args, **kwargs):
        calls.append(args[-1] if args else "")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, attribute, counted)
    return calls


def test_every_static_lookup_goes_through_the_remembering_storage(settings):
    assert settings.STORAGES["staticfiles"]["BACKEND"] == "config.static_storage.CachedStaticFilesStorage"
    assert static(ICON) == "/static/" + ICON
    assert type(staticfiles_storage._wrapped) is CachedStaticFilesStorage
    html = engines["django"].from_string("{% load static %}{% static 'img/avatar-default.svg' %}").render()
    assert html == "/static/" + ICON


def test_the_plain_storage_answers_as_before_and_works_a_name_out_once(monkeypatch):
    storage = CachedStaticFilesStorage(location="/nowhere", base_url="/static/")
    expected = StaticFilesStorage(location="/nowhere", base_url="/static/").url("css/app.css?v=1 2")
    calls = _counting(monkeypatch, FileSystemStorage, "url")

    assert storage.url("css/app.css?v=1 2") == expected
    assert storage.url("css/app.css?v=1 2") == expected
    assert storage.url(ICON) == "/static/" + ICON

    assert calls == ["css/app.css?v=1 2", ICON]  # the second lookup did no work


@pytest.fixture
def manifest_root(tmp_path):
    (tmp_path / "staticfiles.json").write_text(
        json.dumps({"paths": {ICON: HASHED_ICON}, "version": "1.1", "hash": "x"})
    )
    return tmp_path


def test_the_manifest_storage_answers_as_before_and_reads_the_manifest_once(
    manifest_root, monkeypatch, settings
):
    settings.DEBUG = False
    expected = CompressedManifestStaticFilesStorage(location=manifest_root, base_url="/static/").url(ICON)
    storage = CachedManifestStaticFilesStorage(location=manifest_root, base_url="/static/")
    calls = _counting(monkeypatch, storage, "stored_name")

    assert expected == "/static/" + HASHED_ICON
    assert storage.url(ICON) == expected
    assert storage.url(ICON) == expected
    assert calls == [ICON]


def test_the_manifest_storage_keeps_debug_and_forced_and_missing_names_apart(manifest_root, settings):
    storage = CachedManifestStaticFilesStorage(location=manifest_root, base_url="/static/")
    settings.DEBUG = True
    assert storage.url(ICON) == "/static/" + ICON  # unhashed in DEBUG, as Django's
    assert storage.url(ICON, force=True) == "/static/" + HASHED_ICON
    settings.DEBUG = False
    assert storage.url(ICON) == "/static/" + HASHED_ICON
    for _ in range(2):  # a name missing from the strict manifest fails every time
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("img/missing.svg")
