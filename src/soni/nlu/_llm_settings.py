"""The LLM backend's settings: read from ``settings.nlu`` and the environment."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import httpx

from soni.actions.validators import as_number
from soni.nlu.errors import NluSettingsError

__all__ = ("DEFAULT_BASE_URL", "FALLBACK_ORDER", "LLMSettings", "ResponseFormat")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MODEL_ENV = "SONI_LLM_MODEL"
BASE_URL_ENV = "SONI_LLM_BASE_URL"
API_KEY_ENVS = ("SONI_LLM_API_KEY", "OPENAI_API_KEY")

ResponseFormat = Literal[
    "auto", "json_schema", "llama_cpp", "ollama", "vllm", "guided_json", "json_object", "none"
]  # fmt: skip
"""How the request asks for the answer's shape; see :class:`LLMSettings`."""

FALLBACK_ORDER: tuple[ResponseFormat, ...] = ("json_schema", "llama_cpp", "json_object", "none")
"""The forms ``auto`` tries, in order, stepping down when the server rejects one. The
first is what OpenAI, vLLM, Ollama's /v1 and llama.cpp's llama-server take; the second
what llama-cpp-python's server takes; the last two carry no schema the server enforces."""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_TIMEOUT = 600.0
_MAX_RETRIES = 10
_MAX_BACKOFF = 10.0
_MAX_TOKENS = 32_768


@dataclass(frozen=True, slots=True)
class LLMSettings:
    """How to reach an OpenAI-compatible chat-completions API.

    Build it with :meth:`from_settings` from the bot's ``settings.nlu``; values are
    checked either way.

    Attributes:
        model: The model name sent with each request.
        base_url: The API root; requests go to ``{base_url}/chat/completions``.
        api_key: Sent as ``Authorization: Bearer ...``; ``None`` sends no header
            (local servers often need none). Never shown by ``repr``.
        timeout: Seconds one attempt may take, from connecting to the last byte.
        retries: Further attempts after a timeout, a connection error, HTTP 429 or
            HTTP 5xx.
        retry_backoff: Seconds before the first retry; doubled for each next one.
        temperature: Sampling temperature, 0 to 2.
        response_format: How the request asks for the command schema, by server
            family: ``json_schema`` (OpenAI structured outputs; also vLLM, Ollama's
            /v1, llama.cpp's llama-server), ``llama_cpp`` (``json_object`` with the
            schema beside it, as llama-cpp-python's server takes it), ``ollama``
            (Ollama's native /api/chat with ``format``), ``vllm`` (vLLM's
            ``structured_outputs``), ``guided_json`` (vLLM before 0.12),
            ``json_object`` (any JSON; the schema goes in the prompt), ``none``
            (no format; the schema goes in the prompt) or ``auto`` (the default:
            ``json_schema``, stepping down through :data:`FALLBACK_ORDER` when the
            server rejects a form).
        turn_budget: Seconds the whole attempt at a message may take, retries and
            stepping down included; then the fallback reads it.
        max_tokens: The most tokens the model may answer with (an answer is a few
            dozen); ``0`` sends no limit (for models that refuse ``max_tokens``).
        stream: Ask for the answer as a stream, so that giving up on it (the turn
            budget spent) makes the server stop generating instead of finishing an
            answer nobody reads while the next message waits behind it.
    """

    model: str
    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 10.0
    retries: int = 2
    retry_backoff: float = 0.25
    temperature: float = 0.0
    response_format: ResponseFormat = "auto"
    turn_budget: float = 8.0
    max_tokens: int = 400
    stream: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise NluSettingsError("model", "must be a non-empty model name")
        object.__setattr__(self, "base_url", _base_url(self.base_url))
        if self.api_key is not None and (not isinstance(self.api_key, str) or not self.api_key):
            raise NluSettingsError("api_key", "must be a non-empty string")
        _check_range("timeout", self.timeout, 0.0, _MAX_TIMEOUT, low_inclusive=False)
        if isinstance(self.retries, bool) or not isinstance(self.retries, int):
            raise NluSettingsError("retries", f"must be a whole number, got {self.retries!r}")
        _check_range("retries", self.retries, 0, _MAX_RETRIES)
        _check_range("retry_backoff", self.retry_backoff, 0.0, _MAX_BACKOFF)
        _check_range("temperature", self.temperature, 0.0, 2.0)
        _check_range("turn_budget", self.turn_budget, 0.0, _MAX_TIMEOUT, low_inclusive=False)
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int):
            raise NluSettingsError("max_tokens", f"must be a whole number, got {self.max_tokens!r}")
        _check_range("max_tokens", self.max_tokens, 0, _MAX_TOKENS)
        if not isinstance(self.stream, bool):
            raise NluSettingsError("stream", f"must be true or false, got {self.stream!r}")
        if self.response_format not in get_args(ResponseFormat):
            allowed = ", ".join(get_args(ResponseFormat))
            raise NluSettingsError(
                "response_format", f"must be one of {allowed}, got {self.response_format!r}"
            )

    @property
    def endpoint(self) -> str:
        """The URL requests go to: ``{base_url}/chat/completions``, or for ``ollama``
        Ollama's native ``/api/chat`` on the same server (a ``/v1`` ending is dropped)."""
        if self.response_format == "ollama":
            root = self.base_url.removesuffix("/v1")
            return f"{root}/api/chat"
        return f"{self.base_url}/chat/completions"

    @classmethod
    def from_settings(
        cls, nlu: Mapping[str, Any], environ: Mapping[str, str] = os.environ
    ) -> LLMSettings:
        """Read the settings from ``settings.nlu`` (its extra keys), then the environment.

        A value in the settings wins over the environment. Keys this backend does
        not know (``engine``, the rules' own settings) are ignored; a key set to
        ``null`` counts as not set.

        Args:
            nlu: ``settings.nlu`` as a mapping (e.g. ``settings.nlu.model_dump()``).
            environ: Where environment variables are read.

        Raises:
            NluSettingsError: a value is missing or unusable; it names the setting.
        """
        given = {key: value for key, value in nlu.items() if value is not None}
        model = given.get("model", environ.get(MODEL_ENV) or None)
        if model is None:
            raise NluSettingsError(
                "model", f"is required by the llm engine (or set the {MODEL_ENV} variable)"
            )
        return cls(
            model=_string("model", model).strip(),
            base_url=_string("base_url", given.get("base_url", "")).strip()
            or environ.get(BASE_URL_ENV, "").strip()
            or DEFAULT_BASE_URL,
            api_key=_api_key(given, environ),
            timeout=_number("timeout", given.get("timeout", 10.0)),
            retries=_whole("retries", given.get("retries", 2)),
            retry_backoff=_number("retry_backoff", given.get("retry_backoff", 0.25)),
            temperature=_number("temperature", given.get("temperature", 0.0)),
            response_format=given.get("response_format", "auto"),
            turn_budget=_number("turn_budget", given.get("turn_budget", 8.0)),
            max_tokens=_whole("max_tokens", given.get("max_tokens", 400)),
            stream=_bool("stream", given.get("stream", True)),
        )


def _api_key(given: Mapping[str, Any], environ: Mapping[str, str]) -> str | None:
    if _string("api_key", given.get("api_key", "")).strip():
        return str(given["api_key"]).strip()
    if "api_key_env" in given:
        name = _string("api_key_env", given["api_key_env"])
        if not _ENV_NAME.fullmatch(name):
            raise NluSettingsError(
                "api_key_env", f"must be the name of an environment variable, got {name!r}"
            )
        names: tuple[str, ...] = (name,)
    else:
        names = API_KEY_ENVS
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def _string(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise NluSettingsError(key, f"must be a string, got {type(value).__name__}")
    return value


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise NluSettingsError(key, f"must be true or false, got {value!r}")


def _number(key: str, value: Any) -> float:
    number = as_number(value)
    if number is None:
        raise NluSettingsError(key, f"must be a number, got {value!r}")
    return number


def _whole(key: str, value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise NluSettingsError(key, f"must be a whole number, got {value!r}")
    return value


def _check_range(
    key: str, value: float, low: float, high: float, *, low_inclusive: bool = True
) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise NluSettingsError(key, f"must be a number, got {value!r}")
    too_low = value < low if low_inclusive else value <= low
    if too_low or value > high:
        floor = f"at least {low:g}" if low_inclusive else f"more than {low:g}"
        raise NluSettingsError(key, f"must be {floor} and at most {high:g}, got {value!r}")


def _base_url(value: Any) -> str:
    text = _string("base_url", value).strip().rstrip("/")
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError) as exc:
        raise NluSettingsError("base_url", f"is not a valid URL: {exc}") from None
    if url.userinfo:
        # A password in the URL would end up in logs and error messages.
        raise NluSettingsError("base_url", "must not contain credentials; use api_key")
    if url.scheme not in ("http", "https") or not url.host:
        raise NluSettingsError("base_url", f"must be an http:// or https:// URL, got {text!r}")
    if url.query or url.fragment:
        raise NluSettingsError("base_url", "must not have a query or a fragment")
    return text
