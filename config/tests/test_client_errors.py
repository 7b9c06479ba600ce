"""Bad client input answers a clear 4xx (JSON in the API's shape under /api/), never a 500."""

from __future__ import annotations

import json

import pytest

from accounts.tests.factories import UserFactory
from social.models import Report
from social.tests.factories import make_post

pytestmark = pytest.mark.django_db

DEEP_JSON = "[" * 1000 + "]" * 1000


@pytest.fixture
def raising_client(client):
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/users/%00/",
        "/api/v1/users/%00/posts/",
        "/api/v1/tags/%00/posts/",
        "/api/v1/search/posts/?q=a&cursor=%00",
        "/api/v1/notifications/?cursor=cD0A",
    ],
)
def test_a_nul_byte_in_an_api_address_is_a_400_in_the_error_shape(user_api_client, path):
    response = user_api_client.get(path)
    assert response.status_code in (400, 404), response.content
    if "%00" in path:
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid"


def test_a_nul_byte_on_a_page_is_a_plain_400(raising_client):
    assert raising_client.get("/@%00").status_code == 400
    assert raising_client.get("/explore/?q=%00").status_code == 400


def test_a_nul_byte_in_a_form_field_is_a_400(raising_client):
    from urllib.parse import urlencode

    body = urlencode({"login": "a\x00@example.com", "password": "x"})
    response = raising_client.post("/accounts/login/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_json_nested_1000_deep_is_a_400_on_the_api_and_on_allauth_login(user_api_client, raising_client):
    response = user_api_client.post("/api/v1/posts/", DEEP_JSON, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["error"]["message"]
    response = raising_client.post(
        "/_allauth/browser/v1/auth/login", DEEP_JSON, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["status"] == 400
    deep_dict = '{"text": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}"
    response = user_api_client.post("/api/v1/posts/", deep_dict, content_type="application/json")
    assert response.status_code == 400


def test_a_nul_in_a_json_key_is_a_400(user_api_client):
    response = user_api_client.post(
        "/api/v1/posts/", json.dumps({"te\x00xt": "hi"}), content_type="application/json"
    )
    assert response.status_code == 400


def test_a_json_body_over_the_upload_limit_is_a_413_in_the_error_shape(user_api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"text": "x" * 2000})
    response = user_api_client.post("/api/v1/posts/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_a_bogus_charset_is_refused(user_api_client):
    response = user_api_client.post(
        "/api/v1/posts/", json.dumps({"text": "hi"}), content_type="application/json; charset=bogus-8"
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_a_number_is_not_text(user_api_client):
    response = user_api_client.post("/api/v1/posts/", {"text": 12345}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["text"] == ["Not a valid string."]


@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "101", "1.5", ""])
def test_an_invalid_page_size_is_refused(user_api_client, page_size):
    response = user_api_client.get(f"/api/v1/notifications/?page_size={page_size}")
    assert response.status_code == 400
    assert "page_size" in response.json()["error"]["fields"]


def test_a_valid_page_size_is_used(user_api_client):
    assert user_api_client.get("/api/v1/notifications/?page_size=100").status_code == 200


def test_options_on_a_view_without_a_serializer_answers(user_api_client, other_user):
    for path in (
        f"/api/v1/users/{other_user.handle}/block/",
        f"/api/v1/follow-requests/{other_user.handle}/accept/",
        "/api/v1/notifications/1/read/",
    ):
        response = user_api_client.options(path)
        assert response.status_code == 200, (path, response.content)


def test_an_unmatched_api_url_is_json_and_a_page_gets_the_branded_404(raising_client):
    response = raising_client.get("/api/v1/nothing/here/")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "There is nothing at this address.", "fields": {}}
    }
    response = raising_client.get("/_allauth/browser/v1/no-such-thing")
    assert response.status_code == 404 and response.json()["status"] == 404
    page = raising_client.get("/no/such/page/")
    assert page.status_code == 404
    assert b"Page not found" in page.content and b"<html" in page.content


def test_a_server_error_is_json_under_api_and_a_branded_page_elsewhere(rf):
    from config.http_errors import server_error

    response = server_error(rf.get("/api/v1/posts/"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"
    page = server_error(rf.get("/explore/"))
    assert page.status_code == 500 and b"Something went wrong" in page.content and b"<html" in page.content


def test_the_schema_documents_400_for_every_operation_and_the_invalid_cursor_404(client):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "400" in responses and "503" in responses, (method, path)
            names = {p.get("name") for p in operation.get("parameters", [])}
            if "cursor" in names:
                assert "404" in responses, (method, path)
            if "page_size" in names:
                page_size = next(p for p in operation["parameters"] if p.get("name") == "page_size")
                assert page_size["schema"]["maximum"] == 100
            if method in ("post", "put", "patch"):
                assert "413" in responses and "415" in responses, (method, path)


def test_a_form_encoded_body_is_refused_where_the_api_takes_json(user_api_client):
    # A form cannot say null and turns an empty field into "omitted": `handle=""` would pass as
    # a report without a handle. Only operations that take files accept multipart.
    post = make_post(UserFactory())
    response = user_api_client.post(
        "/api/v1/reports/", {"reason": "spam", "post_id": post.pk, "handle": ""}, format="multipart"
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert not Report.objects.exists()


def test_a_post_with_images_still_takes_multipart(user_api_client):
    response = user_api_client.post("/api/v1/posts/", {"text": "from a form"}, format="multipart")
    assert response.status_code == 201


def test_a_multipart_body_with_no_form_part_is_refused_not_taken_as_an_empty_change(user_api_client):
    boundary = "c54b56f8ce1db3bd4a380bef812b1750"
    body = f"--{boundary}\r\n0--{boundary}--\r\n"
    response = user_api_client.generic(
        "PATCH", "/api/v1/me/", body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 400
    assert "no form field" in response.json()["error"]["message"]


def test_an_empty_multipart_form_is_an_empty_change(user_api_client):
    boundary = "b0undary"
    response = user_api_client.generic(
        "PATCH",
        "/api/v1/me/",
        f"--{boundary}--\r\n",
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 200
