"""The server's side of action workers: what they announced, and calls sent to them.

A worker connects to ``/ws`` and announces its actions (docs/workers.md). The server
keeps them as **remote entries** of the bot's ActionRegistry, each a spec whose
handler sends the call to a worker, so that everything the engine does around a
handler — claims, the journal, timeouts, ``on_error`` — holds for a remote one.

A call goes to the announcing worker with the fewest commands in flight, as a
``run_action`` instruction in a session of its own. Its future is registered with the
:class:`~soni.remote.responses.ResponseRegistry` *before* the frame is sent, so an
answer that arrives at once is not lost. The command is sent once: to another worker
only when the first answered that it never started it (``"started": false``) or its
connection was already closed before the frame went out. A worker that disconnects
fails its commands at once.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from soni.actions import ActionContext, ActionRegistry, ActionSpec, time_left
from soni.actions.errors import ActionFailed, ActionNotFound, ActionRegistrationError, ActionTimeout
from soni.actions.spec import validate_name
from soni.remote.errors import CommandTimeout
from soni.remote.responses import ResponseRegistry
from soni.server.errors import BadFrame, problem_for
from soni.server.ws_session import Frame, Socket
from soni.sessions.events import SessionEvent, jsonable
from soni.wire import ActionOffer, Announcement, CallContext, RunAction

__all__ = ("DEFAULT_DEADLINE", "AnswerTooLarge", "RemoteActions", "WorkerLink", "WorkerLost")

logger = logging.getLogger("soni.server.workers")

DEFAULT_DEADLINE = 300.0
"""Seconds a remote call may take when its flow sets no timeout."""

_ANSWER_GRACE = 5.0
"""How much longer than its deadline the server waits for a worker's answer (the
worker's own timeout answers first)."""


class WorkerLost(Exception):
    """The worker's connection closed while it ran the command."""


class AnswerTooLarge(Exception):
    """The worker's answer was over the server's frame limit: it ran, its result is lost."""


def _for_worker(left: float) -> float:
    """The deadline sent to a worker when the call has ``left`` seconds."""
    return max(0.001, round(left - min(0.25, left / 10), 3))


@dataclass(eq=False)
class WorkerLink:
    """One connected worker: its connection and what it announced there."""

    socket: Socket
    key_name: str | None
    worker_id: str = ""
    actions: dict[str, ActionOffer] = field(default_factory=dict)
    in_flight: int = 0
    announced: bool = False

    def __str__(self) -> str:
        return self.worker_id or "an unannounced worker"


@dataclass(frozen=True, slots=True)
class _Command:
    link: WorkerLink
    action: str
    conversation_id: str


class RemoteActions:
    """The workers connected to this server process, and the calls sent to them.

    Args:
        registry: The bot's ActionRegistry: its remote entries are kept here.
        publish: Sends a session event to the conversation's subscribers (progress).
        conversation: The conversation a command runs for, as ``GET
            /conversations/{id}`` shows it (by the bot's id), for a worker's question.
    """

    def __init__(
        self,
        registry: ActionRegistry,
        publish: Callable[[SessionEvent], Awaitable[None]],
        conversation: Callable[[str], Awaitable[Mapping[str, Any]]],
    ) -> None:
        self.registry = registry
        self._publish = publish
        self._conversation = conversation
        self.responses = ResponseRegistry()
        self._links: list[WorkerLink] = []
        self._commands: dict[str, _Command] = {}
        self._republish()  # from now on, an unknown action's error says what workers offer

    # -- workers ----------------------------------------------------------------------

    def announce(self, link: WorkerLink, announcement: Announcement) -> list[str]:
        """Record what ``link`` offers (replacing what it offered before).

        Raises:
            BadFrame: 422, an action name that is not one, or a duplicate.
        """
        if not link.socket.open:
            raise BadFrame("the connection closed while announcing", slug="connection-closed")
        offers: dict[str, ActionOffer] = {}
        for offer in announcement.actions:
            if offer.name in offers:
                raise BadFrame(
                    f"announce: action {offer.name!r} is listed twice",
                    status=422,
                    slug="invalid-request",
                )
            other = self._offered(offer.name, besides=link)
            if other is not None and other[1] != offer.model_copy(
                update={"description": other[1].description}
            ):
                raise BadFrame(
                    f"announce: action {offer.name!r} differs from what worker {other[0]} "
                    "offers under that name (parameters, idempotent, reconcile): one name, "
                    "one action",
                    status=409,
                    slug="conflicting-action",
                )
            try:
                validate_name(offer.name)
            except ActionRegistrationError as exc:
                raise BadFrame(
                    f"announce: {exc.reason} (action {offer.name!r})",
                    status=422,
                    slug="invalid-request",
                ) from None
            unknown = set(offer.required) - set(offer.params)
            if offer.mode == "params" and unknown:
                raise BadFrame(
                    f"announce: action {offer.name!r} requires {sorted(unknown)}, which are "
                    "not among its params",
                    status=422,
                    slug="invalid-request",
                )
            offers[offer.name] = offer
        link.worker_id = announcement.worker
        link.actions = offers
        if not link.announced:
            link.announced = True
            self._links.append(link)
        self._republish()
        logger.info(
            "worker %s%s announced %d action(s): %s",
            link.worker_id,
            f" (key {link.key_name})" if link.key_name else "",
            len(offers),
            ", ".join(sorted(offers)) or "none",
        )
        return sorted(offers)

    def _offered(self, name: str, *, besides: WorkerLink) -> tuple[WorkerLink, ActionOffer] | None:
        for link in self._links:
            if link is not besides and name in link.actions:
                return link, link.actions[name]
        return None

    def disconnect(self, link: WorkerLink) -> None:
        """Forget ``link``: its entries go, its commands fail now."""
        if link not in self._links:
            return
        self._links.remove(link)
        self._republish()
        failed = self.responses.fail_where(
            lambda pending: pending.owner is link,
            WorkerLost(f"worker {link} disconnected while running it; it may have run"),
        )
        logger.warning(
            "worker %s disconnected%s",
            link,
            f"; {failed} command(s) it was running failed" if failed else "",
        )

    @property
    def workers(self) -> list[WorkerLink]:
        return list(self._links)

    def where(self) -> dict[str, tuple[str, ...]]:
        """Each remote action → the ids of the workers offering it."""
        found: dict[str, list[str]] = {}
        for link in self._links:
            for name in link.actions:
                found.setdefault(name, []).append(link.worker_id)
        return {name: tuple(ids) for name, ids in sorted(found.items())}

    def _unknown(self, name: str) -> str:
        if not self._links:
            return "no action worker is connected"
        offered = sorted({n for link in self._links for n in link.actions})
        return (
            f"{len(self._links)} action worker(s) connected, offering "
            f"{', '.join(offered) or 'nothing'}; none announced it"
        )

    def _republish(self) -> None:
        specs: dict[str, ActionSpec] = {}
        for link in self._links:
            for name, offer in link.actions.items():
                if name not in specs:
                    specs[name] = _spec(self, offer)
        self.registry.set_remote(specs, unknown=self._unknown)

    # -- calls ----------------------------------------------------------------------

    def _pick(self, name: str, tried: set[WorkerLink]) -> WorkerLink | None:
        ready = [
            link
            for link in self._links
            if name in link.actions and link not in tried and link.socket.open
        ]
        return min(ready, key=lambda link: link.in_flight) if ready else None

    async def call(
        self, name: str, slots: Mapping[str, Any], ctx: ActionContext, *, reconcile: bool = False
    ) -> Any:
        """Run ``name`` on a worker; its result (``None`` from a reconcile check that
        found nothing).

        Raises:
            ActionNotFound: no worker offers it (any more).
            ActionTimeout: the worker said the deadline passed.
            ActionFailed: the handler failed there, or the worker was lost meanwhile.
        """
        tried: set[WorkerLink] = set()
        refused: str | None = None
        while True:
            # Each attempt gets what is left, a little less than the server waits, so
            # that the worker's own timeout answers first.
            left = time_left()
            deadline = _for_worker(left if left is not None else DEFAULT_DEADLINE)
            link = self._pick(name, tried)
            if link is None:
                if refused is not None:
                    raise ActionFailed(name, None, f"action {name!r} failed: {refused}")
                raise ActionNotFound(name, (), self._unknown(name))
            tried.add(link)
            answer = await self._send(link, name, slots, ctx, reconcile, deadline)
            if answer is None:
                continue  # the connection closed before the frame went out
            if answer.get("ok") is True:
                return answer.get("result")
            error = answer.get("error")
            problem = error if isinstance(error, dict) else {}
            detail = str(problem.get("detail") or problem.get("title") or "no detail")
            if problem.get("started") is False:
                refused = f"worker {link} did not run it: {detail}"
                continue
            if str(problem.get("type", "")).endswith(":action-timeout"):
                raise ActionTimeout(name, deadline)
            raise ActionFailed(name, None, f"action {name!r} failed in worker {link}: {detail}")

    async def _send(
        self,
        link: WorkerLink,
        name: str,
        slots: Mapping[str, Any],
        ctx: ActionContext,
        reconcile: bool,
        deadline: float,
    ) -> dict[str, Any] | None:
        command_id = f"cmd-{uuid.uuid4().hex}"
        args = RunAction(
            action=name,
            reconcile=reconcile,
            slots=jsonable(dict(slots)),
            context=CallContext(
                conversation_id=ctx.conversation_id,
                user_id=ctx.user_id,
                flow=ctx.flow,
                step=ctx.step,
                idempotency_key=ctx.idempotency_key,
                confirmation_token=ctx.confirmation_token,
            ),
            deadline=deadline,
        ).model_dump(mode="json")
        # Registered before the frame goes out: an answer that comes at once is kept.
        pending = self.responses.register(command_id, timeout=deadline + _ANSWER_GRACE, owner=link)
        self._commands[command_id] = _Command(link, name, ctx.conversation_id)
        link.in_flight += 1
        try:
            if not link.socket.open:
                self.responses.cancel(command_id)
                return None
            sent = await link.socket.send(
                command_id, {"type": "instruction", "name": "run_action", "args": args}
            )
            if not sent:
                # It may have been partly written: the worker may have it. Not again.
                raise ActionFailed(
                    name,
                    None,
                    f"action {name!r}: the connection to worker {link} broke "
                    "while sending it; it may have run",
                )
            try:
                answer: dict[str, Any] = await self.responses.wait(pending)
            except (WorkerLost, AnswerTooLarge) as exc:
                raise ActionFailed(name, exc, f"action {name!r} failed: {exc}") from None
            except CommandTimeout:
                raise ActionTimeout(name, deadline) from None
            return answer
        finally:
            link.in_flight -= 1
            self._commands.pop(command_id, None)
            self.responses.cancel(command_id)

    # -- frames from workers ------------------------------------------------------------

    def owns(self, session_id: str) -> bool:
        """Whether ``session_id`` is a command in flight."""
        return session_id in self._commands

    def resolve(self, link: WorkerLink, frame: Frame) -> None:
        """The answer ``link`` sent for one of its commands: it settles the command."""
        command = self._commands.get(frame.session_id)
        if command is None or command.link is not link:
            logger.warning(
                "worker %s answered command %s, which is not its own; ignored",
                link,
                frame.session_id,
            )
            return
        self.responses.resolve(frame.session_id, frame.payload)

    def too_large(self, link: WorkerLink, session_id: str, limit: int) -> bool:
        """A frame of ``link`` over ``limit`` bytes in ``session_id``: if that is one of
        its commands, the command fails (its answer is lost); returns whether it was."""
        command = self._commands.get(session_id)
        if command is None or command.link is not link:
            return False
        logger.warning(
            "worker %s answered %s with a frame over %d bytes; the action ran, its result is lost",
            link,
            command.action,
            limit,
        )
        self.responses.fail(
            session_id,
            AnswerTooLarge(
                f"worker {link}'s answer is larger than the server takes ({limit} bytes, "
                "SONI_MAX_BODY_BYTES); the action ran, its result is lost"
            ),
        )
        return True

    async def take(self, link: WorkerLink, frame: Frame) -> Mapping[str, Any] | None:
        """Handle a frame ``link`` sent in one of its commands' sessions.

        Returns:
            A payload to answer in that session (an instruction's response), or
            ``None``.
        """
        command = self._commands.get(frame.session_id)
        if command is None or command.link is not link:
            logger.warning(
                "worker %s sent a %s for command %s, which is not its own; ignored",
                link,
                frame.type,
                frame.session_id,
            )
            return None
        if frame.type == "response":
            self.responses.resolve(frame.session_id, frame.payload)
            return None
        if frame.type == "event":
            await self._progress(command, frame.payload)
            return None
        return await self._question(command, frame.payload)

    async def _progress(self, command: _Command, payload: Mapping[str, Any]) -> None:
        data = payload.get("data")
        try:
            event = SessionEvent(
                "action_progress",
                command.conversation_id,
                {"action": command.action, "data": jsonable(data)},
            )
        except (TypeError, ValueError) as exc:
            logger.warning(
                "worker %s sent a progress event that is not JSON: %s", command.link, exc
            )
            return
        await self._publish(event)

    async def _question(self, command: _Command, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        name = payload.get("name")
        if name == "conversation":
            view = await self._conversation(command.conversation_id)
            return {"type": "response", "ok": True, "result": dict(view)}
        error = BadFrame(
            f"unknown instruction {name!r} in a command's session; expected conversation",
            slug="unknown-instruction",
        )
        return {"type": "response", "ok": False, "error": problem_for(error).to_json()}


class _RemoteHandler:
    """The handler of a remote entry: sends the call to a worker."""

    def __init__(self, hub: RemoteActions, offer: ActionOffer, reconcile: bool) -> None:
        self.hub = hub
        self.offer = offer
        self.reconcile = reconcile
        self.__name__ = offer.name
        self.__qualname__ = f"remote:{offer.name}"
        self.__module__ = "soni.server.remote_actions"

    async def __call__(self, _remote_ctx: ActionContext, **arguments: Any) -> Any:
        slots = arguments.get("slots", {}) if self.offer.mode == "slots" else arguments
        return await self.hub.call(self.offer.name, slots, _remote_ctx, reconcile=self.reconcile)


def _spec(hub: RemoteActions, offer: ActionOffer) -> ActionSpec:
    params = offer.params if offer.mode == "params" else ()
    required = offer.required if offer.mode == "params" else ()
    call = ActionSpec(
        name=offer.name,
        handler=_RemoteHandler(hub, offer, False),
        scope="remote",
        mode=offer.mode,
        params=params,
        required=required,
        ctx_param="_remote_ctx",
        is_async=True,
    )
    # The reconcile check is called like the action: the same spec, asking the worker's.
    check = dataclasses.replace(call, handler=_RemoteHandler(hub, offer, True))
    return dataclasses.replace(
        call,
        description=offer.description,
        idempotent=offer.idempotent,
        reconcile=check if offer.reconcile else None,
    )
