"""The server's settings: a pydantic model, filled from code or from ``SONI_*`` variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ("ServerSettings", "parse_api_keys")

_ENV_PREFIX = "SONI_"
# A frame over max_body_bytes is still read, to be answered 413 in its session;
# up to this many times the limit, past which reading it is not worth the memory.
_FRAME_CAP_FACTOR = 16


def parse_api_keys(text: str) -> dict[str, str]:
    """Read ``"key1=user1,key2=user2"`` into ``{key: user}``.

    Raises:
        ValueError: an entry without ``=``, an empty key or user, or a key listed twice.
    """
    keys: dict[str, str] = {}
    for number, entry in enumerate(text.split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        key, sep, user = entry.partition("=")
        key, user = key.strip(), user.strip()
        if not sep or not key or not user:
            # Never echo the entry: it holds a secret.
            raise ValueError(f"API key entry {number} is not of the form key=user")
        if key in keys:
            raise ValueError(f"API key entry {number} repeats an earlier key")
        keys[key] = user
    return keys


class ServerSettings(BaseModel):
    """How the HTTP/WebSocket server behaves.

    Attributes:
        api_keys: ``{key: user_id}``. Empty (the default): no authentication, and
            the ``user_id`` of a message is whatever the client says. Set: every
            route but ``/health`` and ``/ready`` needs ``Authorization: Bearer <key>``,
            and the key's user owns the conversations it starts.
        worker_keys: ``{key: worker name}``: the keys action workers connect with
            (docs/workers.md); never also an API key.
        ui: Serve the web pages: the chat at ``/`` and the inbox at ``/inbox``
            (docs/web.md); ``soni serve --no-ui`` turns them off.
        decide_by_token_alone: With API keys on, let a confirmation token decide
            (and be read) without a key — for links in notifications. Off by default:
            a token then decides only for its conversation's owner.
        max_body_bytes: Largest request body (and WebSocket frame) accepted; a
            larger one is answered 413 (in its session, for a frame).
        ws_max_frame_bytes: Largest WebSocket frame the server reads at all (a
            whole message, its fragments joined): beyond it the connection is
            closed with 1009. At least ``max_body_bytes``; by default 16 times it
            (1 MiB). Enforced by the WebSocket protocol ``soni serve`` runs
            (``uvicorn_options``).
        max_request_line_bytes: Longest HTTP request line (method, target,
            version); a longer one is answered 414. Enforced by ``soni serve``'s
            HTTP protocol (``uvicorn_options``).
        max_header_bytes: Largest HTTP header section (every field together); a
            larger one is answered 431. Enforced like ``max_request_line_bytes``.
        busy_policy: ``queue`` runs concurrent messages to one conversation one
            after another, in arrival order; ``reject`` answers 409 while a turn of
            that conversation is running — in any worker on a shared database.
        busy_wait: Longest a queued message waits for its conversation's turn
            (seconds); past it the message is answered 409 ``conversation-busy``, so a
            turn stuck elsewhere never holds requests forever.
        max_sessions: Live conversations the session registry keeps in memory.
        idle_ttl: Seconds without activity before a conversation leaves the registry.
        session_clean_interval: Seconds between two clean-ups of idle sessions.
        subscriber_queue: Events buffered per subscriber before it is dropped as lagging.
        long_poll_max: Longest ``?wait=`` honoured by ``GET /confirmations/{token}``.
        sse_ping: Seconds between keep-alive comments on ``/events``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_keys: dict[str, str] = Field(default_factory=dict)
    worker_keys: dict[str, str] = Field(default_factory=dict)
    ui: bool = True
    decide_by_token_alone: bool = False
    max_body_bytes: int = Field(default=65_536, gt=0)
    ws_max_frame_bytes: int | None = Field(default=None, gt=0)
    max_request_line_bytes: int = Field(default=8_192, ge=64)
    max_header_bytes: int = Field(default=32_768, ge=256)
    busy_policy: Literal["queue", "reject"] = "queue"
    busy_wait: float = Field(default=30.0, gt=0)
    max_sessions: int = Field(default=10_000, gt=0)
    idle_ttl: float = Field(default=3600.0, gt=0)
    session_clean_interval: float = Field(default=60.0, gt=0)
    subscriber_queue: int = Field(default=256, gt=0)
    long_poll_max: float = Field(default=60.0, ge=0)
    sse_ping: float = Field(default=15.0, gt=0)

    @field_validator("api_keys", "worker_keys", mode="before")
    @classmethod
    def _read_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_api_keys(value)
        return value

    @field_validator("api_keys", "worker_keys")
    @classmethod
    def _check_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key, user in value.items():
            if not key.strip() or not user.strip():
                raise ValueError("API keys and their users must not be empty")
            try:
                # A user names a namespace of conversation ids (soni.server.namespace).
                user.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("API key users must be valid UTF-8 text") from None
        return value

    @model_validator(mode="after")
    def _check_worker_keys(self) -> ServerSettings:
        shared = set(self.api_keys) & set(self.worker_keys)
        if shared:
            raise ValueError(
                f"{len(shared)} key(s) are both an API key and a worker key: a worker key "
                "must not also open conversations"
            )
        return self

    @model_validator(mode="after")
    def _check_frame_limits(self) -> ServerSettings:
        if self.ws_max_frame_bytes is not None and self.ws_max_frame_bytes < self.max_body_bytes:
            raise ValueError(
                f"ws_max_frame_bytes ({self.ws_max_frame_bytes}) must be at least "
                f"max_body_bytes ({self.max_body_bytes}): a frame over max_body_bytes "
                "is answered 413 only if the server can read it"
            )
        return self

    @property
    def ws_frame_cap(self) -> int:
        """The largest WebSocket frame read at all: ``ws_max_frame_bytes`` or its default."""
        if self.ws_max_frame_bytes is not None:
            return self.ws_max_frame_bytes
        return _FRAME_CAP_FACTOR * self.max_body_bytes

    @property
    def auth_enabled(self) -> bool:
        """Whether requests must carry an API key."""
        return bool(self.api_keys)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServerSettings:
        """Settings from ``SONI_<FIELD>`` variables (``SONI_API_KEYS``, ``SONI_BUSY_POLICY``…).

        ``overrides`` win over the environment.

        Raises:
            pydantic.ValidationError: a variable holds an invalid value.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(_ENV_PREFIX + name.upper())
            if raw is not None and raw.strip():
                values[name] = raw.strip()
        values.update(overrides)
        return cls.model_validate(values)
