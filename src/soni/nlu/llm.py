"""Understanding through a language model behind an OpenAI-compatible API (or Ollama's).

``LLMUnderstanding`` sends the message and a description of the bot and of the
conversation to a chat endpoint, asks for a JSON object matching the schema of the
dialogue commands — in the request shape the server family takes (``response_format``)
— checks the answer against the context and maps it to commands. Whatever goes wrong
— the network, the server, the model, the answer, the turn's time budget running out —
the fallback understanding (the rules) reads the message instead, and a warning says
why. ``understand`` never raises.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import httpx

from soni.nlu._llm_answer import (
    StreamedAnswer,
    UnusableAnswer,
    read_answer,
    read_completion,
    read_ollama_chat,
)
from soni.nlu._llm_prompt import request_body
from soni.nlu._llm_settings import FALLBACK_ORDER, LLMSettings, ResponseFormat
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
# How servers answer a request shape they do not take: llama-cpp-python's server a 500
# naming the response_format type, OpenAI-style servers a 400, pydantic-based ones a 422.
_REJECTING = frozenset({400, 415, 422, 500, 501})
_ABOUT_FORMAT = re.compile(
    r"response_format|json_schema|json_object|structured|guided|schema", re.IGNORECASE
)


class _Failure(Exception):
    """One attempt failed; ``retryable`` when another attempt may succeed."""

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.retryable = retryable


class _Rejected(_Failure):
    """The server refused the request's shape (``response_format`` and the like)."""


class LLMUnderstanding:
    """An ``Understanding`` that asks a language model, and the fallback when that fails.

    Each message gets at most ``settings.turn_budget`` seconds of the model, retries
    and format detection included; then the fallback reads it.

    With ``response_format: auto`` the request shape is found from the server: the
    first form of :data:`~soni.nlu._llm_settings.FALLBACK_ORDER`, and when the server
    rejects a form, the next one, at once and for good on this instance — a rejected
    form is never sent again, and once the server has accepted a form it is kept.

    Args:
        settings: The model, endpoint, key, timeouts, retries and response format.
        fallback: Reads the message whenever the model cannot (typically the rules).
        client: An HTTP client to send requests with; one is made (and closed by
            :meth:`aclose`) when not given. A given client is left open.
        clock: Monotonic seconds, for the turn budget (tests pass a fake one).
        sleep: Waits between retries (tests pass one that moves the fake clock).
    """

    def __init__(
        self,
        settings: LLMSettings,
        fallback: Understanding,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.fallback = fallback
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()
        self._clock = clock
        self._sleep = sleep
        auto = settings.response_format == "auto"
        self._forms: tuple[ResponseFormat, ...] = (
            FALLBACK_ORDER if auto else (settings.response_format,)
        )
        self._form = 0
        # A form the server has answered is the server's form; only before that can a
        # 4xx/5xx mean "not this shape" rather than a failure of this one request.
        self._settled = not auto

    @property
    def response_format(self) -> ResponseFormat:
        """The request shape used now: the configured one, or what ``auto`` found so far."""
        return self._forms[self._form]

    async def understand(self, text: str, context: ConversationContext) -> list[Command]:
        if not text.strip():
            return await self._fall_back(text, context, None)
        if len(text) > MAX_MESSAGE_CHARS:
            # The runtime refuses such messages before understanding; never pay for one.
            reason = f"the message is longer than {MAX_MESSAGE_CHARS} characters"
            return await self._fall_back(text, context, reason)
        budget = self.settings.turn_budget
        try:
            # The deadline below paces the attempts; this hard stop on the event loop's
            # clock holds even where that pacing cannot (a stalled read, a slow DNS).
            async with asyncio.timeout(budget):
                content = await self._ask(text, context, self._clock() + budget)
            return read_answer(content, text, context)
        except TimeoutError:
            reason = f"no answer within the turn budget of {budget:g} s"
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

    async def _ask(self, text: str, context: ConversationContext, deadline: float) -> str:
        """The answer's text, in the current form, stepping down when a form is rejected."""
        settings = self.settings
        while True:
            form = self.response_format
            body = request_body(
                form,
                text,
                context,
                model=settings.model,
                temperature=settings.temperature,
                max_tokens=settings.max_tokens,
            )
            try:
                return await self._complete(form, body, deadline)
            except _Rejected as rejected:
                if not self._step_down(form):
                    raise _Failure(
                        f"{settings.endpoint} rejected response_format {form} ({rejected}); "
                        "no other response_format is left"
                    ) from None
                logger.info(
                    "%s rejected response_format %s (%s); using %s from now on "
                    "(set response_format: %s to skip this)",
                    settings.endpoint,
                    form,
                    rejected,
                    self.response_format,
                    self.response_format,
                )

    def _step_down(self, rejected: ResponseFormat) -> bool:
        """Move past ``rejected``, if it is still the current form; whether one is left."""
        if self.response_format == rejected:
            if self._form + 1 >= len(self._forms):
                return False
            self._form += 1
        return True

    async def _complete(self, form: ResponseFormat, body: dict[str, Any], deadline: float) -> str:
        """The answer's text, after retrying what may pass on another attempt in time."""
        settings = self.settings
        attempts = settings.retries + 1
        attempt = 1
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise _Failure(_spent(settings.turn_budget, attempt - 1))
            try:
                if remaining < settings.timeout:
                    return await self._attempt(form, body, remaining, settings.turn_budget)
                return await self._attempt(form, body, settings.timeout, None)
            except _Rejected:
                raise
            except _Failure as failure:
                if not failure.retryable or attempt == attempts:
                    if attempt > 1:
                        raise _Failure(f"{failure} (after {attempt} attempts)") from None
                    raise
                delay = min(settings.retry_backoff * 2 ** (attempt - 1), _MAX_RETRY_DELAY)
                if self._clock() + delay >= deadline:
                    # Waiting would end the budget before the next attempt could start.
                    raise _Failure(f"{failure}; {_spent(settings.turn_budget, attempt)}") from None
                logger.info(
                    "LLM request attempt %d of %d failed (%s); retrying in %.2f s",
                    attempt,
                    attempts,
                    self._redact(str(failure)),
                    delay,
                )
                await self._sleep(delay)
                attempt += 1

    async def _attempt(
        self, form: ResponseFormat, body: dict[str, Any], limit: float, budget: float | None
    ) -> str:
        """One request; ``limit`` seconds for all of it (``budget`` when that is what is
        left of the turn's budget, for the message)."""
        settings = self.settings
        endpoint = settings.endpoint
        headers = {"Accept": "application/json"}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        if settings.stream:
            body = {**body, "stream": True}
        try:
            # httpx's timeout bounds each read; this bounds the whole attempt, so a
            # server trickling bytes cannot hold the turn.
            async with asyncio.timeout(limit):
                async with self._client.stream(
                    "POST", endpoint, json=body, headers=headers, timeout=limit
                ) as response:
                    streamed = response.is_success and _is_stream(response, form)
                    if streamed:
                        content = await _read_stream(response, form)
                    else:
                        raw = await _read_capped(response)
        except (TimeoutError, httpx.TimeoutException):
            within = f"{limit:g} s" if budget is None else f"the turn budget of {budget:g} s"
            raise _Failure(f"no answer within {within}", retryable=True) from None
        except httpx.TransportError as exc:
            raise _Failure(
                f"cannot reach {endpoint}: {type(exc).__name__}", retryable=True
            ) from None
        except httpx.HTTPError as exc:
            raise _Failure(f"request to {endpoint} failed: {type(exc).__name__}") from None
        status = response.status_code
        if not response.is_success:
            # The body is not logged: an error about the key may quote part of it.
            code = _error_code(raw)
            detail = f" ({code})" if code else ""
            reason = f"{endpoint} answered HTTP {status}{detail}"
            if not self._settled and status in _REJECTING and _ABOUT_FORMAT.search(_text(raw)):
                raise _Rejected(f"HTTP {status}, {code}" if code else f"HTTP {status}")
            hint = _HINTS.get(status, "")
            chosen = settings.response_format != "auto"
            if chosen and status in _REJECTING and _ABOUT_FORMAT.search(_text(raw)):
                hint = f" (does the server take response_format {form}? try auto)"
            raise _Failure(reason + hint, retryable=status == 429 or status >= 500)
        self._settled = True
        if streamed:
            return content
        # A server that does not stream answers with the whole response at once.
        return read_ollama_chat(raw) if form == "ollama" else read_completion(raw)

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


def _is_stream(response: httpx.Response, form: ResponseFormat) -> bool:
    kind = response.headers.get("content-type", "")
    if form == "ollama":
        return "application/x-ndjson" in kind
    return "text/event-stream" in kind


async def _read_stream(response: httpx.Response, form: ResponseFormat) -> str:
    answer = StreamedAnswer(ollama=form == "ollama")
    size = 0
    async for line in response.aiter_lines():
        size += len(line)
        if size > _MAX_RESPONSE_BYTES:
            raise _Failure(f"the response is larger than {_MAX_RESPONSE_BYTES:,} bytes")
        answer.feed(line)
        if answer.done:
            break
    return answer.text()


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > _MAX_RESPONSE_BYTES:
            raise _Failure(f"the response is larger than {_MAX_RESPONSE_BYTES:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _spent(budget: float, attempts: int) -> str:
    plural = "s" if attempts != 1 else ""
    return f"the turn budget of {budget:g} s is spent (after {attempts} attempt{plural})"


def _text(raw: bytes) -> str:
    return raw[:4096].decode("utf-8", "replace")


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
