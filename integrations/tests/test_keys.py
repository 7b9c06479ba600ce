"""The key format: recognisable, checkable offline, never stored."""

from __future__ import annotations

import re

import pytest

from integrations import keys


def test_a_new_key_has_prefix_public_id_secret_and_checksum(settings):
    token = keys.make_token(public_id="AbCdEf1234")
    assert re.fullmatch(r"relay_test_AbCdEf1234_[0-9A-Za-z]{38}", token)
    parsed = keys.parse_token(token)
    assert parsed.public_id == "AbCdEf1234"
    assert parsed.environment == "test"


def test_the_secret_has_at_least_160_bits_of_randomness():
    import math

    assert keys.SECRET_LENGTH * math.log2(62) >= 160
    tokens = {keys.make_token(public_id="AbCdEf1234") for _ in range(50)}
    assert len(tokens) == 50


def test_the_checksum_catches_a_single_changed_character():
    token = keys.make_token(public_id="AbCdEf1234")
    position = len("relay_test_AbCdEf1234_") + 5
    changed = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
    with pytest.raises(keys.KeyFormatError) as error:
        keys.parse_token(changed)
    assert error.value.code == "invalid_api_key_checksum"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-key",
        "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB",
        "relay_test_",
        "relay_prod_AbCdEf1234_" + "a" * 38,
        "relay_test_short_" + "a" * 38,
        "relay_test_AbCdEf1234_" + "a" * 37,
        "relay_test_AbCdEf1234_" + "a" * 39,
        "relay_test_AbCdEf1234_" + "a" * 36 + "é!",
    ],
)
def test_malformed_and_truncated_keys_are_refused_without_the_database(token):
    with pytest.raises(keys.KeyFormatError) as error:
        keys.parse_token(token)
    assert error.value.code == "malformed_api_key"


def test_a_key_of_the_other_environment_is_refused(settings):
    live = keys.make_token(public_id="AbCdEf1234", environment="live")
    assert live.startswith("relay_live_")
    with pytest.raises(keys.KeyFormatError) as error:
        keys.parse_token(live)
    assert error.value.code == "wrong_environment_api_key"
    settings.API_KEY_ENVIRONMENT = "live"
    assert keys.parse_token(live).environment == "live"


def test_only_the_sha256_of_the_key_is_stored(user, db):
    from integrations.tests.factories import issue_key

    issued = issue_key(user)
    row = type(issued.api_key).objects.values().get(pk=issued.api_key.pk)
    assert issued.token not in {str(v) for v in row.values()}
    assert row["secret_hash"] == keys.hash_token(issued.token)
    assert len(row["secret_hash"]) == 64
