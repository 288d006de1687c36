"""Server settings, from code and from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from soni.server import ServerSettings
from soni.server.settings import parse_api_keys


def test_api_keys_are_read_from_key_equals_user_pairs() -> None:
    assert parse_api_keys("k1=ann, k2 = bob,,") == {"k1": "ann", "k2": "bob"}
    assert parse_api_keys("") == {}
    for bad in ("secret-key", "=ann", "k1=", "k1=ann,k1=bob"):
        with pytest.raises(ValueError) as refused:
            parse_api_keys(bad)
        assert "secret-key" not in str(refused.value)  # keys are never echoed


def test_settings_from_the_environment() -> None:
    settings = ServerSettings.from_env(
        {
            "SONI_API_KEYS": "k1=ann,k2=bob",
            "SONI_BUSY_POLICY": "reject",
            "SONI_MAX_BODY_BYTES": "1024",
            "SONI_DECIDE_BY_TOKEN_ALONE": "true",
            "SONI_LONG_POLL_MAX": "5",
            "UNRELATED": "x",
        },
        max_sessions=7,
    )
    assert settings.api_keys == {"k1": "ann", "k2": "bob"}
    assert settings.auth_enabled
    assert settings.busy_policy == "reject"
    assert settings.max_body_bytes == 1024
    assert settings.decide_by_token_alone is True
    assert settings.long_poll_max == 5
    assert settings.max_sessions == 7
    defaults = ServerSettings.from_env({})
    assert defaults == ServerSettings()
    assert not defaults.auth_enabled and defaults.busy_policy == "queue"
    assert defaults.max_body_bytes == 65_536 and defaults.long_poll_max == 60
    with pytest.raises(ValidationError):
        ServerSettings.from_env({"SONI_BUSY_POLICY": "drop"})
    with pytest.raises(ValidationError):
        ServerSettings(max_body_bytes=0)
