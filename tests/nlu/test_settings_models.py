"""The understanding engines' settings are pydantic models: built directly or read from
``settings.nlu``, a bad value is an ``NluSettingsError`` naming its key, never
pydantic's own error, and a good one is a frozen, comparable value."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from soni.nlu.embeddings import EmbeddingSettings
from soni.nlu.errors import NluSettingsError
from soni.nlu.llm import LLMSettings
from soni.nlu.rules import RulesSettings


@pytest.mark.parametrize(
    ("build", "key", "message"),
    [
        (lambda: LLMSettings(model="m", timeout=0), "timeout", "more than 0"),
        (lambda: LLMSettings(model="m", retries="many"), "retries", "whole number"),
        (lambda: LLMSettings(model=""), "model", "non-empty"),
        (lambda: LLMSettings(), "model", "is required"),  # type: ignore[call-arg]
        (lambda: RulesSettings(trigger_threshold=120), "trigger_threshold", "0 and 100"),
        (lambda: RulesSettings(affirm="yes"), "affirm", "list of phrases"),
        (lambda: EmbeddingSettings(threshold=2), "embeddings_threshold", "between 0 and 1"),
        (
            lambda: RulesSettings.from_settings({"embeddings_margin": "x"}),
            "embeddings_margin",
            "number",
        ),
    ],
)
def test_a_bad_value_names_its_key_however_the_settings_are_built(
    build: Any, key: str, message: str
) -> None:
    with pytest.raises(NluSettingsError) as caught:
        build()
    assert not isinstance(caught.value, ValidationError)
    assert caught.value.key == key
    assert message in caught.value.message


def test_settings_are_frozen_comparable_models() -> None:
    settings = RulesSettings.from_settings({"trigger_threshold": "75", "affirm": ["aye aye"]})
    assert isinstance(settings, BaseModel)
    assert settings == RulesSettings(trigger_threshold=75, affirm=["aye aye"])
    assert "aye aye" in settings.affirm and "yes" in settings.affirm  # the defaults stay
    with pytest.raises(ValidationError):
        settings.trigger_threshold = 10  # type: ignore[misc]
    llm = LLMSettings(model=" m ", api_key="sk-secret-key")
    assert llm.model == "m"
    assert "sk-secret-key" not in repr(llm)
    assert hash(llm) == hash(LLMSettings(model="m", api_key="sk-secret-key"))


def test_other_engines_keys_are_left_alone() -> None:
    nlu = {"engine": "llm", "model": "m", "trigger_threshold": 70, "embeddings_margin": 0.2}
    assert RulesSettings.from_settings(nlu).trigger_threshold == 70
    assert LLMSettings.from_settings(nlu, environ={}).model == "m"
