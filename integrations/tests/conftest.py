"""Clients that manage keys: signed in and recently re-authenticated, as creating a key needs."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.tests.factories import DEFAULT_PASSWORD


def reauthenticate_api(client: APIClient, password: str = DEFAULT_PASSWORD) -> None:
    """allauth headless re-authentication, as the SPA does before creating a key."""
    response = client.post("/_allauth/browser/v1/auth/reauthenticate", {"password": password}, format="json")
    assert response.status_code == 200, response.content


@pytest.fixture
def reauthed_api_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    reauthenticate_api(client)
    return client


@pytest.fixture
def signed_in(client: Client, user) -> Client:
    """The settings page's visitor, who confirmed their password a moment ago."""
    client.force_login(user)
    assert client.post("/accounts/reauthenticate/", {"password": DEFAULT_PASSWORD}).status_code == 302
    return client
