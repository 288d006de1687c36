"""With API keys on, another user's conversation or confirmation answers exactly as an unknown one.

A matrix against a real server: every HTTP route and every WebSocket instruction,
called by each user on their own resource, on another user's, and on one that
does not exist. "Another user's" must answer exactly as "unknown" (status,
problem ``type``, ``title``, and ``detail`` but for the id); sending a message to
another user's id starts the caller's own conversation, as an unknown id does.
Subscriptions (SSE and WebSocket) never deliver another user's event, and a
confirmation belongs to the user of its record, whoever holds its conversation's
name later.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from soni.server import ServerSettings

from .._scale import scaled
from .conftest import LiveServer, Serve, sse_events, start_transfer

USERS = ("alice", "bob", "carol", "dave")[: scaled(ci=3, full=4)]
ON_POSTGRES = USERS[:2]
"""The matrix's users on PostgreSQL: one pair, each way. Who owns a conversation or a
confirmation is kept there as for any pair; every pair is checked on SQLite, and
all of them again on PostgreSQL would triple the suite's costliest test."""
ROUNDS = scaled(ci=1, full=5)
KEYS = ServerSettings(api_keys={f"{user}-key": user for user in USERS})
OPTION = "execute_transfer"

Record = Callable[[str, object], None]


@pytest.fixture
def keyed(serve: Serve) -> LiveServer:
    return serve(settings=KEYS)


def unknown_token() -> str:
    return secrets.token_urlsafe(32)  # the shape of a real token


def normalised(value: Any, name: str) -> Any:
    """``value`` with the id or token ``name`` replaced by a placeholder wherever it appears."""
    if isinstance(value, str):
        return value.replace(name, "<name>")
    if isinstance(value, dict):
        return {key: normalised(item, name) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalised(item, name) for item in value]
    return value


def answer_of(response: httpx.Response, name: str) -> tuple[int, str, Any]:
    """What a client learns from an answer: status, media type, body (the name left out)."""
    media = response.headers.get("content-type", "").partition(";")[0]
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    return response.status_code, media, normalised(body, name)


# -- the HTTP routes ------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One HTTP call; ``{c}`` is replaced by a conversation id, ``{t}`` by a token."""

    method: str
    path: str
    body: str | None = None  # a template too
    json_body: bool = True
    own_status: int = 200
    # Whether calling it on one's own resource uses that resource up.
    consumes: bool = False

    @property
    def kind(self) -> str:
        return "token" if "{t}" in self.path or (self.body and "{t}" in self.body) else "id"

    def call(self, client: httpx.Client, name: str) -> httpx.Response:
        path = self.path.format(c=name, t=name)
        if self.body is None:
            return client.request(self.method, path)
        content = self.body.replace("{c}", name).replace("{t}", name)
        media = "application/json" if self.json_body else "text/plain"
        return client.request(
            self.method, path, content=content.encode(), headers={"Content-Type": media}
        )


MESSAGE = Route("POST", "/conversations/{c}/messages", '{"text": "yes"}')

CONVERSATION_ROUTES = [
    Route("GET", "/conversations/{c}"),
    Route("GET", "/conversations/{c}/confirmations"),
    Route("DELETE", "/conversations/{c}", own_status=204, consumes=True),
]

TOKEN_ROUTES = [
    Route("GET", "/confirmations/{t}"),
    Route("GET", "/confirmations/{t}?wait=0.05"),
    Route("POST", "/confirmations/{t}/approve", consumes=True),
    Route("POST", "/confirmations/{t}/skip", consumes=True),
    Route("POST", "/confirmations/{t}/choose", f'{{"option": "{OPTION}"}}', consumes=True),
    Route("POST", "/decisions", "EXECUTE:{t}", json_body=False, consumes=True),
    Route("POST", "/decisions", '{"message": "SKIP:{t}"}', consumes=True),
    Route("POST", "/decisions", f"CHOOSE:{{t}}:{OPTION}", json_body=False, consumes=True),
    # Marks the confirmation shown: a change to the caller's own, so on a fresh one.
    Route("POST", "/decisions", "SHOWN:{t}", json_body=False, consumes=True),
]


def first_sse_event(client: httpx.Client, conversation_id: str) -> tuple[int, Any]:
    """The status of ``GET /events?conversation_id=`` and its first event (``subscribed``)."""
    with client.stream("GET", "/events", params={"conversation_id": conversation_id}) as stream:
        if stream.status_code != 200:
            stream.read()
            return stream.status_code, stream.json()
        event, data = "message", ""
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                data = line.partition(":")[2].strip()
            elif not line and data:
                return 200, {"event": event, "data": json.loads(data)}
    raise AssertionError("the event stream ended before its first event")


# -- a world of users, each with a paused conversation -------------------------------


@dataclass
class User:
    name: str
    client: httpx.Client
    # A conversation paused at its confirmation, and that confirmation's token.
    conversation: str = ""
    token: str = ""
    snapshot: dict[str, Any] = field(default_factory=dict)

    def fresh_conversation(self) -> str:
        """A new conversation of this user's, with saved state."""
        conversation_id = f"{self.name}-own-{secrets.token_hex(4)}"
        answer = self.client.post(
            f"/conversations/{conversation_id}/messages", json={"text": "/check_balance"}
        )
        assert answer.status_code == 200, answer.text
        return conversation_id

    def fresh_token(self) -> tuple[str, str]:
        """A new conversation of this user's paused at a confirmation, and its token."""
        conversation_id = f"{self.name}-pay-{secrets.token_hex(4)}"
        return conversation_id, start_transfer(self.client, conversation_id)["token"]

    def as_it_was(self) -> dict[str, Any]:
        """What the user sees of their paused conversation and its confirmation."""
        return {
            "conversation": self.client.get(f"/conversations/{self.conversation}").json(),
            "confirmation": self.client.get(f"/confirmations/{self.token}").json(),
        }


@pytest.fixture
def users(keyed: LiveServer, backend: str) -> Iterator[dict[str, User]]:
    names = ON_POSTGRES if backend == "postgres" else USERS
    clients = {name: keyed.client(f"{name}-key") for name in names}
    try:
        yield {name: User(name, client) for name, client in clients.items()}
    finally:
        for client in clients.values():
            client.close()


def pause(user: User, round_: int) -> None:
    """Give the user a conversation named like nobody else's yet, paused at a confirmation."""
    user.conversation = f"shared-{round_}-{user.name}"
    user.token = start_transfer(user.client, user.conversation)["token"]
    user.snapshot = user.as_it_was()


def pairs(users: dict[str, User]) -> Iterator[tuple[str, str]]:
    """(caller, owner): every user against every other one."""
    return itertools.permutations(users, 2)


# -- the HTTP matrix ------------------------------------------------------------------


def test_every_http_route_answers_another_users_resource_as_an_unknown_one(
    users: dict[str, User], record_property: Record
) -> None:
    attempts = 0
    for round_ in range(ROUNDS):
        for user in users.values():
            pause(user, round_)
        for caller_name, owner_name in pairs(users):
            caller, owner = users[caller_name], users[owner_name]
            where = f"round {round_}: {caller_name} on {owner_name}'s"

            # Routes on a conversation id: the owner's id, as the caller uses it,
            # answers as an id nobody has.
            for route in CONVERSATION_ROUTES:
                unknown = f"nobody-{secrets.token_hex(4)}"
                theirs = answer_of(
                    route.call(caller.client, owner.conversation), owner.conversation
                )
                nobodys = answer_of(route.call(caller.client, unknown), unknown)
                attempts += 1
                assert theirs == nobodys, f"{where} {route.method} {route.path}"
                assert theirs[0] == 404
                own = caller.fresh_conversation()
                assert route.call(caller.client, own).status_code == route.own_status, route

            # Following the owner's conversation: opened as for an unknown one.
            unknown = f"nobody-{secrets.token_hex(4)}"
            theirs_sse = first_sse_event(caller.client, owner.conversation)
            attempts += 1
            assert normalised(theirs_sse, owner.conversation) == normalised(
                first_sse_event(caller.client, unknown), unknown
            ), f"{where} GET /events"

            # Routes on a token: the owner's token answers as an unknown one.
            for route in TOKEN_ROUTES:
                unknown = unknown_token()
                theirs = answer_of(route.call(caller.client, owner.token), owner.token)
                nobodys = answer_of(route.call(caller.client, unknown), unknown)
                attempts += 1
                assert theirs == nobodys, f"{where} {route.method} {route.path} {route.body}"
                assert theirs[0] == 404
                own_token = fresh_token_for(caller, route)
                own_answer = route.call(caller.client, own_token)
                assert own_answer.status_code == route.own_status, (route, own_answer.text)

            # Sending to the owner's id starts the caller's own conversation, exactly
            # as an id nobody has: the "yes" reaches neither the owner's conversation
            # nor their confirmation.
            unknown = f"nobody-{secrets.token_hex(4)}"
            theirs = answer_of(MESSAGE.call(caller.client, owner.conversation), owner.conversation)
            nobodys = answer_of(MESSAGE.call(caller.client, unknown), unknown)
            attempts += 1
            assert theirs == nobodys, f"{where} POST messages"
            assert theirs[0] == 200
            assert theirs[2]["conversation_id"] == "<name>"
            started = caller.client.get(f"/conversations/{owner.conversation}").json()
            assert started["user_id"] == caller_name

        # Nobody's attempts changed anything of anybody else's.
        for user in users.values():
            assert user.as_it_was() == user.snapshot, user.name
            assert user.snapshot["confirmation"]["status"] == "pending"

    record_property("figure", f"access matrix, HTTP: {attempts} cross-user attempts, 0 leaks")
    assert attempts == ROUNDS * len(list(pairs(users))) * (
        len(CONVERSATION_ROUTES) + 1 + len(TOKEN_ROUTES) + 1
    )


def fresh_token_for(user: User, route: Route) -> str:
    # A route that uses a confirmation up gets one of its own; the others read the
    # user's paused one.
    return user.fresh_token()[1] if route.consumes else user.token


# -- the WebSocket matrix -------------------------------------------------------------


class Socket:
    """A WebSocket connection that calls instructions in fresh sessions."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.sessions = itertools.count()
        self.others: list[dict[str, Any]] = []  # frames of other sessions (events)

    async def call(self, name: str, **args: object) -> tuple[str, dict[str, Any]]:
        session_id = f"s{next(self.sessions)}"
        frame = {
            "session_id": session_id,
            "local_timestamp": None,
            "payload": {"type": "instruction", "name": name, "args": args},
        }
        await self.connection.send(json.dumps(frame))
        while True:
            answer = json.loads(await asyncio.wait_for(self.connection.recv(), 15))
            if answer["session_id"] == session_id:
                return session_id, answer["payload"]
            self.others.append(answer)


INSTRUCTIONS: list[tuple[str, dict[str, str], bool]] = [
    # name, args ({c}: a conversation id, {t}: a token), whether it uses a token up
    ("decide", {"token": "{t}", "decision": "approve"}, True),
    ("decide", {"token": "{t}", "decision": "skip"}, True),
    ("decide", {"token": "{t}", "decision": OPTION}, True),
    ("subscribe", {"conversation_id": "{c}"}, False),
    ("message", {"conversation_id": "{c}", "text": "yes"}, False),
]


def filled(args: dict[str, str], name: str) -> dict[str, str]:
    return {key: value.replace("{c}", name).replace("{t}", name) for key, value in args.items()}


async def test_every_websocket_instruction_answers_another_users_resource_as_an_unknown_one(
    keyed: LiveServer, users: dict[str, User], record_property: Record
) -> None:
    attempts = 0
    for round_ in range(ROUNDS):
        for user in users.values():
            pause(user, round_)
        for caller_name, owner_name in pairs(users):
            caller, owner = users[caller_name], users[owner_name]
            headers = {"Authorization": f"Bearer {caller_name}-key"}
            async with connect(keyed.ws_url, proxy=None, additional_headers=headers) as ws:
                socket = Socket(ws)
                for name, args, consumes in INSTRUCTIONS:
                    uses_token = "token" in args
                    theirs_name = owner.token if uses_token else owner.conversation
                    unknown = unknown_token() if uses_token else f"nobody-{secrets.token_hex(4)}"
                    _, theirs = await socket.call(name, **filled(args, theirs_name))
                    _, nobodys = await socket.call(name, **filled(args, unknown))
                    attempts += 1
                    where = f"round {round_}: {caller_name} on {owner_name}'s, {name} {args}"
                    assert normalised(theirs, theirs_name) == normalised(nobodys, unknown), where
                    if uses_token:
                        assert theirs["ok"] is False
                        assert theirs["error"]["status"] == 404
                        own = caller.fresh_token()[1] if consumes else caller.token
                        _, mine = await socket.call(name, **filled(args, own))
                        assert mine["ok"] is True, mine
                    else:
                        assert theirs["ok"] is True
                        assert theirs["result"]["conversation_id"] == owner.conversation
                # The subscriptions above follow the caller's own ids: the "yes" sent to
                # the owner's id was the caller's own turn, and nothing of the owner's.
                for frame in socket.others:
                    payload = frame["payload"]
                    assert payload["type"] == "event", frame
                    assert payload["conversation_id"] == owner.conversation, frame
                    assert payload["data"].get("user_id") in (None, caller_name), frame
        for user in users.values():
            assert user.as_it_was() == user.snapshot, user.name

    record_property("figure", f"access matrix, WebSocket: {attempts} cross-user attempts, 0 leaks")
    assert attempts == ROUNDS * len(list(pairs(users))) * len(INSTRUCTIONS)


# -- subscriptions --------------------------------------------------------------------


async def collect_sse(
    client: httpx.AsyncClient,
    conversation_id: str | None,
    until: Callable[[dict[str, Any]], bool],
    subscribed: asyncio.Event,
) -> list[dict[str, Any]]:
    """The events of ``GET /events`` up to the one ``until`` accepts (included)."""
    params = {"conversation_id": conversation_id} if conversation_id else {}
    seen: list[dict[str, Any]] = []
    async with client.stream("GET", "/events", params=params) as stream:
        assert stream.status_code == 200
        async for event, data in sse_events(stream):
            if event == "subscribed":
                subscribed.set()
                continue
            seen.append(data)
            if until(data):
                return seen
    raise AssertionError("the stream ended early")


async def collect_ws(
    connection: ClientConnection,
    conversation_id: str | None,
    until: Callable[[dict[str, Any]], bool],
    subscribed: asyncio.Event,
) -> list[dict[str, Any]]:
    args = {"conversation_id": conversation_id} if conversation_id else {}
    frame = {
        "session_id": "watch",
        "local_timestamp": None,
        "payload": {"type": "instruction", "name": "subscribe", "args": args},
    }
    await connection.send(json.dumps(frame))
    seen: list[dict[str, Any]] = []
    async for raw in connection:
        payload = json.loads(raw)["payload"]
        if payload["type"] == "response":
            assert payload["ok"] is True, payload
            subscribed.set()
            continue
        event = {key: payload[key] for key in ("conversation_id", "data")}
        event["type"] = payload["event"]
        seen.append(event)
        if until(event):
            return seen
    raise AssertionError("the socket closed early")


async def test_subscriptions_never_deliver_another_users_event(keyed: LiveServer) -> None:
    """Bob follows everything and alice's conversation name, over SSE and WebSocket,
    while alice runs her conversation through every kind of event; then bob's first
    turn in a conversation of that name is the first thing any of his streams sees."""
    name = "A1"

    def bobs_turn(event: dict[str, Any]) -> bool:
        return event["type"] == "turn" and event["conversation_id"] == name

    def alices_removal(event: dict[str, Any]) -> bool:
        return event["type"] == "session_removed"

    bob_headers = {"Authorization": "Bearer bob-key"}
    async with (
        keyed.async_client("alice-key") as alice,
        keyed.async_client("bob-key") as bob,
        connect(keyed.ws_url, proxy=None, additional_headers=bob_headers) as bob_all_ws,
        connect(keyed.ws_url, proxy=None, additional_headers=bob_headers) as bob_one_ws,
        connect(keyed.ws_url + "?api_key=alice-key", proxy=None) as alice_ws,
    ):
        ready = [asyncio.Event() for _ in range(6)]
        watchers = [
            asyncio.create_task(collect_sse(bob, None, bobs_turn, ready[0])),
            asyncio.create_task(collect_sse(bob, name, bobs_turn, ready[1])),
            asyncio.create_task(collect_ws(bob_all_ws, None, bobs_turn, ready[2])),
            asyncio.create_task(collect_ws(bob_one_ws, name, bobs_turn, ready[3])),
            # Alice's own streams see her events, with her own id: the filter is not
            # simply dropping everything.
            asyncio.create_task(collect_sse(alice, name, alices_removal, ready[4])),
            asyncio.create_task(collect_ws(alice_ws, None, alices_removal, ready[5])),
        ]
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in ready)), 15)

        # Alice: a session, turns, a confirmation requested, decided and executed,
        # another one skipped, and the conversation removed.
        for text in ("send 50 euros to Bob", "DE89370400440532013000"):
            await alice.post(f"/conversations/{name}/messages", json={"text": text})
        state = (await alice.get(f"/conversations/{name}")).json()
        token = state["pending"][0]["token"]
        assert (await alice.post(f"/confirmations/{token}/approve")).status_code == 200
        for text in ("send 20 euros to Ann", "DE89370400440532013000"):
            answer = await alice.post(f"/conversations/{name}/messages", json={"text": text})
        token = answer.json()["pending"][0]["token"]
        assert (await alice.post("/decisions", content=f"SKIP:{token}")).status_code == 200
        assert (await alice.delete(f"/conversations/{name}")).status_code == 204

        # Bob's first turn in his own "A1".
        sent = await bob.post(f"/conversations/{name}/messages", json={"text": "/check_balance"})
        assert sent.status_code == 200
        seen = await asyncio.wait_for(asyncio.gather(*watchers), 15)

    for stream in seen[:4]:
        assert [(e["type"], e["conversation_id"]) for e in stream] == [
            ("session_started", name),
            ("turn", name),
        ]
        assert stream[0]["data"]["user_id"] == "bob"
    for stream in seen[4:]:
        kinds = [e["type"] for e in stream]
        assert {e["conversation_id"] for e in stream} == {name}
        for kind in (
            "session_started",
            "turn",
            "confirmation_requested",
            "awaiting_confirmation",
            "confirmation_decided",
            "action_executed",
            "session_removed",
        ):
            assert kind in kinds, (kind, kinds)


# -- a confirmation belongs to its record's user --------------------------------------


def test_a_confirmation_stays_its_users_after_the_conversation_name_is_reused(
    keyed: LiveServer,
) -> None:
    """Alice approves T in X and deletes X; bob starts his own X: T is still not his."""
    with keyed.client("alice-key") as alice, keyed.client("bob-key") as bob:
        token = start_transfer(alice, "X")["token"]
        assert alice.post(f"/confirmations/{token}/approve").status_code == 200
        assert alice.delete("/conversations/X").status_code == 204
        assert bob.post("/conversations/X/messages", json={"text": "hello"}).status_code == 200

        unknown = unknown_token()
        for method, path, body in [
            ("GET", "/confirmations/{t}", None),
            ("GET", "/confirmations/{t}?wait=0.05", None),
            ("POST", "/confirmations/{t}/skip", None),
            ("POST", "/confirmations/{t}/approve", None),
            ("POST", "/confirmations/{t}/choose", {"option": OPTION}),
        ]:
            theirs = bob.request(method, path.format(t=token), json=body)
            nobodys = bob.request(method, path.format(t=unknown), json=body)
            assert answer_of(theirs, token) == answer_of(nobodys, unknown), path
            assert theirs.status_code == 404
        for text in (f"SKIP:{token}", f"SHOWN:{token}"):
            theirs = bob.post("/decisions", content=text)
            nobodys = bob.post("/decisions", content=text.replace(token, unknown))
            assert answer_of(theirs, token) == answer_of(nobodys, unknown), text
        # Bob's X is his own, and holds none of alice's confirmations.
        assert bob.get("/conversations/X/confirmations").json() == {
            "conversation_id": "X",
            "confirmations": [],
        }

        # Alice still reads her record, decided as she decided it.
        hers = alice.get(f"/confirmations/{token}").json()
        assert hers["status"] == "executed"
        assert hers["conversation_id"] == "X"
        assert hers["decided_by"] == {"user_id": "alice", "channel": "http"}


async def test_a_reused_name_gives_no_websocket_decision_either(keyed: LiveServer) -> None:
    with keyed.client("alice-key") as alice, keyed.client("bob-key") as bob:
        token = start_transfer(alice, "X")["token"]
        assert alice.delete("/conversations/X").status_code == 204
        assert bob.post("/conversations/X/messages", json={"text": "hello"}).status_code == 200
    headers = {"Authorization": "Bearer bob-key"}
    async with connect(keyed.ws_url, proxy=None, additional_headers=headers) as ws:
        socket = Socket(ws)
        unknown = unknown_token()
        _, theirs = await socket.call("decide", token=token, decision="skip")
        _, nobodys = await socket.call("decide", token=unknown, decision="skip")
    assert normalised(theirs, token) == normalised(nobodys, unknown)
    assert theirs["error"]["status"] == 404


def test_a_token_alone_shows_the_conversation_as_its_owner_knows_it(serve: Serve) -> None:
    server = serve(settings=KEYS.model_copy(update={"decide_by_token_alone": True}))
    with server.client("alice-key") as alice, server.client() as link:
        token = start_transfer(alice, "trip")["token"]
        read = link.get(f"/confirmations/{token}").json()
        decided = link.post(f"/confirmations/{token}/approve").json()

    assert read["conversation_id"] == "trip"
    assert decided["conversation_id"] == "trip"
    assert decided["confirmation"]["conversation_id"] == "trip"
    assert decided["confirmation"]["user_id"] == "alice"
