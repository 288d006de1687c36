"""``GET /confirmations``: the inbox — every confirmation the caller may see across its
conversations, newest first, open ones with their tokens, closed ones with who decided
them, through which channel and when; another user's never."""

from __future__ import annotations

import pytest

from soni.server import ServerSettings

from .conftest import Serve, start_transfer

pytestmark = pytest.mark.in_process


def test_the_inbox_lists_open_confirmations_newest_first_and_closed_ones_apart(
    serve: Serve,
) -> None:
    server = serve()
    with server.client() as client:
        first = start_transfer(client, "c1")
        second = start_transfer(client, "c2")
        inbox = client.get("/confirmations").json()["confirmations"]
        assert [c["id"] for c in inbox] == [second["id"], first["id"]]
        assert inbox[0]["token"] == second["token"] and inbox[0]["conversation_id"] == "c2"
        assert inbox[0]["prompt"] and inbox[0]["expires_at"]

        assert client.post(f"/confirmations/{first['token']}/skip").status_code == 200
        assert [c["id"] for c in client.get("/confirmations").json()["confirmations"]] == [
            second["id"]
        ]
        closed = client.get("/confirmations", params={"status": "closed"}).json()
        (skipped,) = closed["confirmations"]
        assert skipped["id"] == first["id"] and skipped["status"] == "skipped"
        assert skipped["decided_by"]["channel"] == "http" and skipped["decided_at"]
        assert skipped["token"] is None  # a closed one opens nothing
        assert client.get("/confirmations", params={"limit": 0}).status_code == 422
        assert client.get("/confirmations", params={"status": "all"}).status_code == 422


def test_each_user_sees_only_their_own(serve: Serve) -> None:
    server = serve(settings=ServerSettings(api_keys={"ka": "alice", "kb": "bob"}))
    with server.client("ka") as alice, server.client("kb") as bob, server.client() as nobody:
        mine = start_transfer(alice, "c1")
        start_transfer(bob, "c1")
        (seen,) = alice.get("/confirmations").json()["confirmations"]
        assert seen["id"] == mine["id"] and seen["conversation_id"] == "c1"
        assert mine["id"] not in {
            c["id"] for c in bob.get("/confirmations").json()["confirmations"]
        }
        assert nobody.get("/confirmations").status_code == 401
