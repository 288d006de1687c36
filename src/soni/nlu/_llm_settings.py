"""The LLM backend's settings: read from ``settings.nlu`` and the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

import httpx
from pydantic import AfterValidator, BeforeValidator, Field

from soni.nlu._setting_fields import NluSettingsModel, flag, in_range, number, text, whole
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


def _model_name(value: Any) -> str:
    if not text(value).strip():
        raise ValueError("must be a non-empty model name")
    return str(value).strip()


def _api_key_value(value: Any) -> str | None:
    if value is None:
        return None
    if not text(value).strip():
        raise ValueError("must be a non-empty string")
    return str(value).strip()


def _base_url(value: Any) -> str:
    given = text(value).strip().rstrip("/")
    try:
        url = httpx.URL(given)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"is not a valid URL: {exc}") from None
    if url.userinfo:
        # A password in the URL would end up in logs and error messages.
        raise ValueError("must not contain credentials; use api_key")
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"must be an http:// or https:// URL, got {given!r}")
    if url.query or url.fragment:
        raise ValueError("must not have a query or a fragment")
    return given


def _response_format(value: Any) -> Any:
    if value not in get_args(ResponseFormat):
        allowed = ", ".join(get_args(ResponseFormat))
        raise ValueError(f"must be one of {allowed}, got {value!r}")
    return value


Seconds = Annotated[
    float, BeforeValidator(number), AfterValidator(in_range(0.0, _MAX_TIMEOUT, above=True))
]


class LLMSettings(NluSettingsModel):
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

    model: Annotated[str, BeforeValidator(_model_name)]
    base_url: Annotated[str, BeforeValidator(_base_url)] = DEFAULT_BASE_URL
    api_key: Annotated[str | None, BeforeValidator(_api_key_value)] = Field(None, repr=False)
    timeout: Seconds = 10.0
    retries: Annotated[int, BeforeValidator(whole), AfterValidator(in_range(0, 10))] = 2
    retry_backoff: Annotated[
        float, BeforeValidator(number), AfterValidator(in_range(0.0, 10.0))
    ] = 0.25
    temperature: Annotated[float, BeforeValidator(number), AfterValidator(in_range(0.0, 2.0))] = 0.0
    response_format: Annotated[ResponseFormat, BeforeValidator(_response_format)] = "auto"
    turn_budget: Seconds = 8.0
    max_tokens: Annotated[int, BeforeValidator(whole), AfterValidator(in_range(0, 32_768))] = 400
    stream: Annotated[bool, BeforeValidator(flag)] = True

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
        if "model" not in given:
            if not environ.get(MODEL_ENV):
                raise NluSettingsError(
                    "model", f"is required by the llm engine (or set the {MODEL_ENV} variable)"
                )
            given["model"] = environ[MODEL_ENV]
        url = given.get("base_url", "")
        if isinstance(url, str) and not url.strip():  # anything else: the field says why
            given["base_url"] = environ.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL
        given["api_key"] = _api_key(given, environ)
        return cls.read(given)


def _api_key(given: Mapping[str, Any], environ: Mapping[str, str]) -> Any:
    if "api_key" in given and (not isinstance(given["api_key"], str) or given["api_key"].strip()):
        return given["api_key"]  # read (and refused, if it is no string) by the field
    if "api_key_env" in given:
        name = given["api_key_env"]
        if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
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
