"""Frames and their routing: the envelope rules of docs/websocket.md, and where each
frame of a connection goes (the waiting command, the event callback, a handler)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from soni.remote import (
    Frame,
    FrameError,
    MessageAdaptor,
    RemoteSession,
    ResponseRegistry,
    SessionClosed,
    decode,
    encode,
)


def frame(session_id: Any, payload: Any) -> str:
    return json.dumps({"session_id": session_id, "local_timestamp": None, "payload": payload})


class Wire:
    """The other end of the connection: every text frame the adaptor sends."""

    def __init__(self) -> None:
        self.sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send(self, text: str) -> None:
        self.sent.put_nowait(json.loads(text))

    async def next(self) -> dict[str, Any]:
        async with asyncio.timeout(5):
            return await self.sent.get()


# -- the envelope -----------------------------------------------------------------------


def test_encode_then_decode_gives_back_the_session_and_payload() -> None:
    text = encode("s1", {"type": "event", "event": "progress", "data": {"done": 0.5}})

    decoded = decode(text)

    assert decoded.session_id == "s1"
    assert decoded.payload == {"type": "event", "event": "progress", "data": {"done": 0.5}}
    assert decoded.type == "event" and decoded.name is None
    assert json.loads(text)["local_timestamp"].endswith("+00:00")


@pytest.mark.parametrize(
    ("raw", "message", "session_id"),
    [
        ("not json", "not valid JSON", None),
        (b"\xff\xfe", "not valid JSON", None),
        ("[1, 2]", "a frame is a JSON object", None),
        (frame(None, {"type": "event"}), "session_id must be a string of 1 to 128", None),
        (frame("", {"type": "event"}), "session_id must be a string of 1 to 128", None),
        (frame("x" * 129, {"type": "event"}), "session_id must be a string of 1 to 128", None),
        (frame("s1", []), "payload must be a JSON object", "s1"),
        (frame("s1", {"type": "gossip"}), "unknown payload type 'gossip'", "s1"),
        (frame("s1", {"name": "x"}), "unknown payload type None", "s1"),
    ],
)
def test_decode_refuses_what_is_not_an_envelope(
    raw: str | bytes, message: str, session_id: str | None
) -> None:
    with pytest.raises(FrameError, match=message) as caught:
        decode(raw)
    assert caught.value.session_id == session_id


def test_decode_takes_a_session_id_of_128_characters() -> None:
    assert decode(frame("x" * 128, {"type": "event"})).session_id == "x" * 128


@pytest.mark.parametrize(
    ("session_id", "payload", "message"),
    [
        ("", {"type": "event"}, "session_id must be"),
        ("s1", {"type": "chat"}, "unknown payload type 'chat'"),
        ("s1", {"type": "event", "data": object()}, "not JSON"),
        ("s1", {"type": "event", "data": float("nan")}, "not JSON"),
    ],
)
def test_encode_refuses_what_the_protocol_does_not_take(
    session_id: str, payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(FrameError, match=message):
        encode(session_id, payload)


# -- routing ----------------------------------------------------------------------------


async def test_a_response_goes_to_the_command_waiting_in_the_registry() -> None:
    wire, registry = Wire(), ResponseRegistry()
    adaptor = MessageAdaptor(wire.send, responses=registry)
    handle = registry.register("cmd-1", timeout=5)

    await adaptor.receive(frame("cmd-1", {"type": "response", "ok": True, "result": {"n": 1}}))

    assert await registry.wait(handle) == {"type": "response", "ok": True, "result": {"n": 1}}
    assert wire.sent.empty()  # a response is never answered


async def test_a_stray_response_is_logged_and_not_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wire = Wire()
    adaptor = MessageAdaptor(wire.send, responses=ResponseRegistry())

    await adaptor.receive(frame("cmd-nobody", {"type": "response", "ok": True}))

    assert "'cmd-nobody', which was never sent" in caplog.text
    assert wire.sent.empty()


async def test_an_instruction_starts_its_handler_which_answers_in_the_session() -> None:
    wire = Wire()
    adaptor = MessageAdaptor(wire.send)

    async def echo(session: RemoteSession, args: dict[str, Any]) -> None:
        await session.respond({"echo": args["text"]})

    adaptor.on("echo", echo)
    await adaptor.receive(
        frame("s1", {"type": "instruction", "name": "echo", "args": {"text": "hi"}})
    )

    sent = await wire.next()
    assert sent["session_id"] == "s1"
    assert sent["payload"] == {"type": "response", "ok": True, "result": {"echo": "hi"}}
    assert await adaptor.join(5)
    assert adaptor.sessions == 0


async def test_later_frames_of_a_live_session_reach_its_handler() -> None:
    wire = Wire()
    adaptor = MessageAdaptor(wire.send)
    seen: list[dict[str, Any]] = []

    async def chat(session: RemoteSession, args: dict[str, Any]) -> None:
        await session.send({"type": "instruction", "name": "conversation"})
        seen.append(await session.recv())  # the other side's answer
        async for payload in session:  # then everything else it sends here
            seen.append(payload)
            if payload.get("event") == "last":
                break
        await session.respond({"seen": len(seen)})

    adaptor.on("chat", chat)
    await adaptor.receive(frame("s1", {"type": "instruction", "name": "chat"}))
    assert (await wire.next())["payload"] == {"type": "instruction", "name": "conversation"}
    await adaptor.receive(frame("s1", {"type": "response", "ok": True, "result": {"id": "c1"}}))
    await adaptor.receive(frame("s1", {"type": "event", "event": "first"}))
    await adaptor.receive(frame("s1", {"type": "event", "event": "last"}))

    assert (await wire.next())["payload"]["result"] == {"seen": 3}
    assert [p.get("result", p.get("event")) for p in seen] == [{"id": "c1"}, "first", "last"]


async def test_an_event_of_a_command_this_side_sent_goes_to_the_event_callback() -> None:
    wire, registry = Wire(), ResponseRegistry()
    events: list[Frame] = []
    adaptor = MessageAdaptor(wire.send, responses=registry, on_event=events.append)
    registry.register("cmd-1", timeout=5)

    await adaptor.receive(frame("cmd-1", {"type": "event", "event": "progress", "data": {"p": 1}}))
    await adaptor.receive(frame("other", {"type": "event", "event": "hello"}))

    assert [(e.session_id, e.payload["event"]) for e in events] == [
        ("cmd-1", "progress"),
        ("other", "hello"),
    ]


async def test_an_async_event_callback_is_awaited_and_its_failure_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []

    async def on_event(event: Frame) -> None:
        calls.append(event.session_id)
        raise RuntimeError("callback bug")

    adaptor = MessageAdaptor(Wire().send, on_event=on_event)
    await adaptor.receive(frame("e1", {"type": "event", "event": "x"}))

    assert calls == ["e1"]
    assert "the event handler failed" in caplog.text


async def test_an_unknown_instruction_is_answered_with_the_known_ones() -> None:
    wire = Wire()
    adaptor = MessageAdaptor(wire.send)

    async def known(session: RemoteSession, args: dict[str, Any]) -> None:
        await session.respond(None)

    adaptor.on("run_action", known)
    await adaptor.receive(frame("s1", {"type": "instruction", "name": "dance"}))

    error = (await wire.next())["payload"]["error"]
    assert error["type"] == "urn:soni:problem:unknown-instruction"
    assert error["status"] == 400
    assert "'dance'; expected one of run_action" in error["detail"]


async def test_args_that_are_not_an_object_are_refused_with_422() -> None:
    wire = Wire()
    adaptor = MessageAdaptor(wire.send)
    called: list[object] = []

    async def handler(session: RemoteSession, args: dict[str, Any]) -> None:
        called.append(args)

    adaptor.on("x", handler)
    await adaptor.receive(frame("s1", {"type": "instruction", "name": "x", "args": [1]}))

    error = (await wire.next())["payload"]["error"]
    assert (error["status"], error["type"]) == (422, "urn:soni:problem:invalid-request")
    assert called == []


async def test_a_handler_that_raises_or_does_not_answer_gets_a_500_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wire = Wire()
    adaptor = MessageAdaptor(wire.send)

    async def broken(session: RemoteSession, args: dict[str, Any]) -> None:
        raise KeyError("oops")

    async def silent(session: RemoteSession, args: dict[str, Any]) -> None:
        return None

    adaptor.on("broken", broken)
    adaptor.on("silent", silent)
    await adaptor.receive(frame("s1", {"type": "instruction", "name": "broken"}))
    first = await wire.next()
    await adaptor.receive(frame("s2", {"type": "instruction", "name": "silent"}))
    second = await wire.next()

    assert first["session_id"] == "s1"
    assert first["payload"]["error"]["detail"] == "instruction 'broken' failed: KeyError"
    assert second["payload"]["error"]["detail"] == "instruction 'silent' ended without an answer"
    assert "instruction 'broken' in session 's1' failed" in caplog.text


async def test_a_bad_frame_naming_a_session_is_answered_there_and_one_naming_none_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wire = Wire()
    adaptor = MessageAdaptor(wire.send)

    assert await adaptor.receive("this is not JSON") is None
    assert await adaptor.receive(frame("s9", {"type": "gossip"})) is None

    answer = await wire.next()
    assert answer["session_id"] == "s9"
    assert answer["payload"]["error"]["type"] == "urn:soni:problem:bad-frame"
    assert "unknown payload type 'gossip'" in answer["payload"]["error"]["detail"]
    assert wire.sent.empty()  # nothing for the frame without a session
    assert "a bad frame: the frame is not valid JSON" in caplog.text


async def test_an_instruction_left_unread_starts_the_next_handler_in_the_session() -> None:
    wire = Wire()
    adaptor = MessageAdaptor(wire.send)
    gate = asyncio.Event()

    async def slow(session: RemoteSession, args: dict[str, Any]) -> None:
        await gate.wait()
        await session.respond({"n": args["n"]})

    adaptor.on("slow", slow)
    await adaptor.receive(frame("s1", {"type": "instruction", "name": "slow", "args": {"n": 1}}))
    await adaptor.receive(frame("s1", {"type": "instruction", "name": "slow", "args": {"n": 2}}))
    gate.set()

    answers = [(await wire.next())["payload"]["result"] for _ in range(2)]
    assert answers == [{"n": 1}, {"n": 2}]


async def test_close_ends_every_session_and_later_sends_fail_with_session_closed() -> None:
    wire = Wire()
    adaptor = MessageAdaptor(wire.send)
    ended: list[str] = []
    waiting = asyncio.Event()

    async def listen(session: RemoteSession, args: dict[str, Any]) -> None:
        waiting.set()
        try:
            await session.recv()
        except SessionClosed as exc:
            ended.append(str(exc))
        with pytest.raises(SessionClosed):
            await session.send({"type": "event", "event": "too late"})
        raise SessionClosed(session.session_id)  # as a handler whose answer failed

    adaptor.on("listen", listen)
    await adaptor.receive(frame("s1", {"type": "instruction", "name": "listen"}))
    await waiting.wait()

    adaptor.close()

    assert await adaptor.join(5)
    assert ended == ["session 's1' is closed"]
    assert wire.sent.empty()
    assert await adaptor.receive(frame("s2", {"type": "instruction", "name": "listen"})) is None


async def test_a_session_context_is_an_action_session() -> None:
    from soni.actions import ActionSession

    session = RemoteSession("s1", lambda session_id, payload: asyncio.sleep(0))
    assert isinstance(session, ActionSession)
    session.deliver({"type": "event", "event": "a"})
    assert session.close() == [{"type": "event", "event": "a"}]
    with pytest.raises(SessionClosed):
        await session.recv()
    assert [p async for p in session] == []
