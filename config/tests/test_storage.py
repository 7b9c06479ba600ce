"""Uploaded media in an S3-compatible bucket: moto's S3 server on loopback, not a mock."""

from __future__ import annotations

import os
import urllib.request
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from config.storage import media_is_remote, media_url
from config.tests import s3
from config.tests.s3 import BUCKET

# moto's S3 server and a fresh bucket (config/tests/s3.py).
s3_server, bucket = s3.s3_server, s3.bucket


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (loopback)
        return response.read()


def test_upload_read_and_delete_go_to_the_bucket(bucket):
    assert media_is_remote()
    name = default_storage.save("avatars/ann.png", ContentFile(b"\x89PNG pixels"))
    assert [o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET)["Contents"]] == [name]
    with default_storage.open(name) as handle:
        assert handle.read() == b"\x89PNG pixels"
    # Private: the object's ACL grants nobody but the owner.
    grants = bucket.get_object_acl(Bucket=BUCKET, Key=name)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    default_storage.delete(name)
    assert not default_storage.exists(name)
    assert "Contents" not in bucket.list_objects_v2(Bucket=BUCKET)


def test_non_public_media_get_a_short_lived_signed_url(bucket, settings):
    settings.MEDIA_SIGNED_URL_SECONDS = 120
    name = default_storage.save("posts/secret.jpg", ContentFile(b"private image"))
    url = media_url(name, public=False)
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["120"]
    assert query["X-Amz-Signature"] and query["X-Amz-Credential"][0].startswith("test/")
    assert _get(url) == b"private image"
    # moto's server does not check signatures or expiry (it authorises every request unless
    # run with IAM checks): what is checked here is the URL the browser gets.


def test_public_media_use_the_cdn_when_one_is_configured(bucket, settings):
    name = default_storage.save("avatars/bob.png", ContentFile(b"bob"))
    signed = media_url(name, public=True)
    assert parse_qs(urlparse(signed).query)["X-Amz-Expires"] == [str(settings.MEDIA_PUBLIC_URL_SECONDS)]
    settings.MEDIA_PUBLIC_BASE_URL = "https://cdn.example.com/media"
    assert media_url(name, public=True) == f"https://cdn.example.com/media/{name}"
    assert "cdn.example.com" not in media_url(name, public=False)


def test_media_to_bucket_moves_local_files_under_the_same_names(bucket, tmp_path):
    local = tmp_path / "old-media"
    (local / "avatars").mkdir(parents=True)
    (local / "avatars" / "a.png").write_bytes(b"a")
    (local / "posts").mkdir()
    (local / "posts" / "p.jpg").write_bytes(b"p")
    call_command("media_to_bucket", "--source", str(local), stdout=open(os.devnull, "w"))  # noqa: SIM115
    keys = sorted(o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == ["avatars/a.png", "posts/p.jpg"]
    # Again, deleting the local copies: nothing copied twice, the folder emptied.
    call_command("media_to_bucket", "--source", str(local), "--delete-local", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert sorted(o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET)["Contents"]) == keys
    assert not any(p.is_file() for p in local.rglob("*"))


def test_media_to_bucket_refuses_without_a_bucket(tmp_path):
    with pytest.raises(CommandError, match="No media bucket"):
        call_command("media_to_bucket", "--source", str(tmp_path))


def test_local_disk_media_keep_their_media_url(settings):
    assert not media_is_remote()
    assert media_url("avatars/x.png", public=False) == "/media/avatars/x.png"
