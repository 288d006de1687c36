"""A Python client for soni's WebSocket protocol.

``AsyncClient`` for asyncio code; ``Client``, blocking and thread-safe, for the rest.

See ``docs/client.md``.
"""

from soni.client.async_client import AsyncClient
from soni.client.errors import (
    ClientError,
    Conflict,
    ConnectFailed,
    ConnectionClosed,
    Gone,
    InvalidRequest,
    NotFound,
    ProtocolError,
    RequestTimeout,
    Unauthorized,
)
from soni.client.records import BotMessage, Decision, Event, Pending, Reply
from soni.client.subscription import Subscription
from soni.client.sync_client import Client, SyncSubscription

__all__ = (
    "AsyncClient",
    "BotMessage",
    "Client",
    "ClientError",
    "Conflict",
    "ConnectFailed",
    "ConnectionClosed",
    "Decision",
    "Event",
    "Gone",
    "InvalidRequest",
    "NotFound",
    "Pending",
    "ProtocolError",
    "Reply",
    "RequestTimeout",
    "Subscription",
    "SyncSubscription",
    "Unauthorized",
)
