"""``create_app``: the FastAPI application serving one bot."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from soni.engine import Bot
from soni.errors import suggesting
from soni.server.auth import Keys
from soni.server.errors import install_error_handlers
from soni.server.limits import RequestLimits
from soni.server.logs import redact_keys_in_logs
from soni.server.metrics import Metrics
from soni.server.openapi import install_docs_page, install_openapi, operation_id
from soni.server.remote_actions import RemoteActions
from soni.server.routes import confirmations, conversations, events, system
from soni.server.service import Conversations
from soni.server.settings import ServerSettings
from soni.server.state import ServerState
from soni.server.ui import install_ui
from soni.server.ws import router as ws_router
from soni.sessions import SessionRegistry

logger = logging.getLogger("soni.server")

__all__ = ("create_app",)

_DESCRIPTION = (
    "Chat with a soni bot, decide its pending confirmations from anywhere, and follow "
    "conversations live (server-sent events at `/events`, WebSocket protocol at `/ws`). "
    "Every error is `application/problem+json`. This document is the server's contract: "
    "each route lists every status it answers, and soni's test suite holds the server to "
    "it with schemathesis."
)


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
    redact_keys_in_logs()  # a browser's WebSocket carries its key in the query string
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
            # Every worker's turns, resets and confirmations, in the order they
            # happened: the event streams (SSE, WebSocket) serve what it records.
            stack.callback(served.events.subscribe(sessions.record))
            stack.callback(await metrics.attach(served))
            conversations = Conversations(served, settings, metrics)
            remote = RemoteActions(
                served.actions, sessions.publish, conversations.conversation_by_inner_id
            )
            app.state.soni = ServerState(
                bot=served,
                sessions=sessions,
                settings=settings,
                metrics=metrics,
                keys=keys,
                conversations=conversations,
                remote=remote,
                worker_keys=Keys(settings.worker_keys),
            )
            # Actions no handler of this process serves wait for a worker to announce them.
            for name in served.unserved_actions():
                logger.warning(
                    "action %r has no handler here: it runs when an action worker announces it%s",
                    name,
                    suggesting(served.actions.suggest(name)),
                )
            # Requests arriving after this point answer 503 instead of reaching a closed bot.
            stack.callback(delattr, app.state, "soni")
            yield

    app = FastAPI(
        title="soni",
        description=_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,  # served from local files: install_docs_page
        redoc_url=None,
    )
    install_openapi(app, settings)
    install_docs_page(app)
    if settings.ui:
        install_ui(app)
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
