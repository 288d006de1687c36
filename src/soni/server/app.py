"""``create_app``: the FastAPI application serving one bot."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from soni.engine.events import BotEvent, ConfirmationChanged, ConversationReset, TurnCompleted
from soni.engine.runtime import Bot
from soni.errors import SessionCommandError
from soni.server.auth import Keys
from soni.server.errors import install_error_handlers
from soni.server.limits import RequestLimits
from soni.server.metrics import Metrics
from soni.server.openapi import install_openapi, operation_id
from soni.server.routes import confirmations, conversations, events, system
from soni.server.service import Conversations
from soni.server.settings import ServerSettings
from soni.server.state import ServerState
from soni.server.ws import router as ws_router
from soni.sessions import SessionRegistry, session_event_for

__all__ = ("create_app",)

_DESCRIPTION = (
    "Chat with a soni bot, decide its pending confirmations from anywhere, and follow "
    "conversations live (server-sent events at `/events`, WebSocket protocol at `/ws`). "
    "Every error is `application/problem+json`. This document is the server's contract: "
    "each route lists every status it answers, and soni's test suite holds the server to "
    "it with schemathesis."
)


def _follow(sessions: SessionRegistry) -> Callable[[BotEvent], Awaitable[None]]:
    """Feed ``sessions`` from the bot's events: every worker's turns, resets and confirmations.

    Called inside the work that caused each event (a turn's events before its
    answer), so the session registry sees them in the order they happened.
    """

    async def record(event: BotEvent) -> None:
        if isinstance(event, TurnCompleted):
            sessions.post_turn(
                event.conversation_id,
                status=event.status,
                pending=event.pending,
                active_flow=event.active_flow,
                user_id=event.user_id,
                replies=[{"text": r.text, "kind": r.kind} for r in event.replies],
            )
        elif isinstance(event, ConversationReset):
            with contextlib.suppress(SessionCommandError):
                await sessions.remove(event.conversation_id, "reset")
        elif isinstance(event, ConfirmationChanged):
            published = session_event_for(event.confirmation)
            if published is not None:
                with contextlib.suppress(SessionCommandError):
                    await sessions.publish(published)

    return record


def create_app(
    bot: Bot | str | os.PathLike[str],
    settings: ServerSettings | None = None,
    **load_options: Any,
) -> FastAPI:
    """The HTTP and WebSocket server for a bot.

    Args:
        bot: A bot folder or file, loaded when the app starts (on the server's event
            loop, which a Bot belongs to) and closed when it stops; or a loaded
            ``Bot`` — then the caller runs the app on the bot's event loop and
            closes the bot itself.
        settings: The server's settings; by default read from ``SONI_*`` variables
            (``ServerSettings.from_env()``).
        **load_options: Passed to ``Bot.load`` (``db``, ``actions``, ...).

    Raises:
        TypeError: load options given with a loaded bot.
    """
    if isinstance(bot, Bot) and load_options:
        raise TypeError(
            "load options apply only when create_app loads the bot: "
            + ", ".join(sorted(load_options))
        )
    settings = settings if settings is not None else ServerSettings.from_env()
    metrics = Metrics()
    keys = Keys(settings.api_keys)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if isinstance(bot, Bot):
                served = bot
            else:
                served = await Bot.load(os.fspath(bot), **load_options)
                stack.push_async_callback(served.aclose)
            sessions = SessionRegistry(
                max_sessions=settings.max_sessions,
                idle_ttl=settings.idle_ttl,
                clean_interval=settings.session_clean_interval,
                queue_size=settings.subscriber_queue,
            )
            await sessions.start()
            stack.push_async_callback(sessions.stop)
            stack.callback(served.events.subscribe(_follow(sessions)))
            stack.callback(await metrics.attach(served))
            app.state.soni = ServerState(
                bot=served,
                sessions=sessions,
                settings=settings,
                metrics=metrics,
                keys=keys,
                conversations=Conversations(served, settings, metrics),
            )
            # Requests arriving after this point answer 503 instead of reaching a closed bot.
            stack.callback(delattr, app.state, "soni")
            yield

    app = FastAPI(
        title="soni",
        description=_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    install_openapi(app, settings)
    app.add_middleware(RequestLimits, max_bytes=settings.max_body_bytes)
    # Last: its catch-all middleware wraps everything else.
    install_error_handlers(app)
    for router in (
        conversations.router,
        confirmations.router,
        events.router,
        system.router,
        ws_router,
    ):
        app.include_router(router)
    return app
