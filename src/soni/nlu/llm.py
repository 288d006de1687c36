"""Understanding through a language model behind an OpenAI-compatible API.

``LLMUnderstanding`` sends the message and a description of the bot and of the
conversation to a chat-completions endpoint, asks for a JSON object matching the
schema of the dialogue commands, checks the answer against the context and maps it
to commands. Whatever goes wrong — the network, the server, the model, the answer —
the fallback understanding (the rules) reads the message instead, and a warning
says why. ``understand`` never raises.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from types import TracebackType
from typing import Any

import httpx

from soni.nlu._llm_answer import UnusableAnswer, read_answer, read_completion
from soni.nlu._llm_prompt import SCHEMA_NAME, command_schema, system_prompt
from soni.nlu._llm_settings import LLMSettings
from soni.nlu.commands import Command, OutOfScope
from soni.nlu.protocol import MAX_MESSAGE_CHARS, ConversationContext, Understanding

__all__ = ("LLMSettings", "LLMUnderstanding")

logger = logging.getLogger(__name__)

_MAX_RESPONSE_BYTES = 1_000_000
_MAX_RETRY_DELAY = 5.0
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_HINTS = {
    401: " (check the API key)",
    403: " (check the API key)",
    404: " (check base_url and model)",
}


class _Failure(Exception):
    """One attempt failed; ``retryable`` when another attempt may succeed."""

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.retryable = retryable


class LLMUnderstanding:
    """An ``Understanding`` that asks a language model, and the fallback when that fails.

    Args:
        settings: The model, endpoint, key, timeout and retries.
        fallback: Reads the message whenever the model cannot (typically the rules).
        client: An HTTP client to send requests with; one is made (and closed by
            :meth:`aclose`) when not given. A given client is left open.
    """

    def __init__(
        self,
        settings: LLMSettings,
        fallback: Understanding,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self.fallback = fallback
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()

    async def understand(self, text: str, context: ConversationContext) -> list[Command]:
        if not text.strip():
            return await self._fall_back(text, context, None)
        if len(text) > MAX_MESSAGE_CHARS:
            # The runtime refuses such messages before understanding; never pay for one.
            reason = f"the message is longer than {MAX_MESSAGE_CHARS} characters"
            return await self._fall_back(text, context, reason)
        try:
            content = await self._complete(self._request(text, context))
            return read_answer(content, text, context)
        except (_Failure, UnusableAnswer) as exc:
            reason = str(exc)
        except Exception as exc:  # a bug here must not cost the user their turn
            reason = f"unexpected {type(exc).__name__}: {exc}"
        return await self._fall_back(text, context, reason)

    async def aclose(self) -> None:
        """Close the HTTP client, if this object made it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> LLMUnderstanding:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- the request ------------------------------------------------------------------

    def _request(self, text: str, context: ConversationContext) -> dict[str, Any]:
        schema = command_schema(context)
        structured = self.settings.response_format == "json_schema"
        body: dict[str, Any] = {
            "model": self.settings.model,
            "temperature": self.settings.temperature,
            "messages": [
                {
                    "role": "system",
                    "content": system_prompt(context, schema=None if structured else schema),
                },
                {"role": "user", "content": text},
            ],
        }
        if structured:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": schema},
            }
        elif self.settings.response_format == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body

    async def _complete(self, body: dict[str, Any]) -> str:
        """The answer's text, after retrying what may pass on another attempt."""
        attempts = self.settings.retries + 1
        attempt = 1
        while True:
            try:
                return await self._attempt(body)
            except _Failure as failure:
                if not failure.retryable or attempt == attempts:
                    if attempt > 1:
                        raise _Failure(f"{failure} (after {attempt} attempts)") from None
                    raise
                delay = min(self.settings.retry_backoff * 2 ** (attempt - 1), _MAX_RETRY_DELAY)
                logger.info(
                    "LLM request attempt %d of %d failed (%s); retrying in %.2f s",
                    attempt,
                    attempts,
                    self._redact(str(failure)),
                    delay,
                )
                await asyncio.sleep(delay)
                attempt += 1

    async def _attempt(self, body: dict[str, Any]) -> str:
        settings = self.settings
        headers = {"Accept": "application/json"}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        try:
            # httpx's timeout bounds each read; this bounds the whole attempt, so a
            # server trickling bytes cannot hold the turn.
            async with asyncio.timeout(settings.timeout):
                async with self._client.stream(
                    "POST", settings.endpoint, json=body, headers=headers, timeout=settings.timeout
                ) as response:
                    raw = await _read_capped(response)
        except (TimeoutError, httpx.TimeoutException):
            raise _Failure(f"no answer within {settings.timeout:g} s", retryable=True) from None
        except httpx.TransportError as exc:
            raise _Failure(
                f"cannot reach {settings.endpoint}: {type(exc).__name__}", retryable=True
            ) from None
        except httpx.HTTPError as exc:
            raise _Failure(f"request to {settings.endpoint} failed: {type(exc).__name__}") from None
        status = response.status_code
        if not response.is_success:
            # The body is not logged: an error about the key may quote part of it.
            code = _error_code(raw)
            detail = f" ({code})" if code else ""
            hint = _HINTS.get(status, "")
            if status == 400 and settings.response_format == "json_schema":
                hint = " (if the server lacks structured outputs, set response_format: json_object)"
            reason = f"{settings.endpoint} answered HTTP {status}{detail}{hint}"
            raise _Failure(reason, retryable=status == 429 or status >= 500)
        return read_completion(raw)

    # -- failing over -----------------------------------------------------------------

    async def _fall_back(
        self, text: str, context: ConversationContext, reason: str | None
    ) -> list[Command]:
        if reason is not None:
            logger.warning(
                "LLM understanding (model %s) failed, using the fallback: %s",
                self.settings.model,
                self._redact(reason),
            )
        try:
            return await self.fallback.understand(text, context)
        except Exception as exc:
            logger.warning(
                "the fallback understanding failed too: %s: %s",
                type(exc).__name__,
                self._redact(str(exc)),
            )
            return [OutOfScope(text)]

    def _redact(self, message: str) -> str:
        key = self.settings.api_key
        return message.replace(key, "[api key]") if key and len(key) >= 4 else message


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > _MAX_RESPONSE_BYTES:
            raise _Failure(f"the response is larger than {_MAX_RESPONSE_BYTES:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _error_code(raw: bytes) -> str | None:
    """The ``error.code`` (or ``error.type``) of an OpenAI-style error body, if it is a plain
    identifier: safe to log, unlike the message."""
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        return None
    if not isinstance(error, dict):
        return None
    for key in ("code", "type"):
        value = error.get(key)
        if isinstance(value, str) and _ERROR_CODE.fullmatch(value):
            return value
    return None
