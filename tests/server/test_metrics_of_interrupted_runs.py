"""/metrics counts the runs found interrupted at start-up (docs/deployment.md says so)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from soni.confirmations import ConfirmationRegistry, Runner
from soni.storage import open_storage

from .conftest import Serve


async def claim_then_die(db: str, conversation_id: str) -> None:
    """What a process killed inside an approved action leaves behind: a claim, no outcome."""
    storage = await open_storage(db, listen=False)
    try:
        runner = Runner()  # dies with ``aclose``, as with a SIGKILL
        registry = ConfirmationRegistry(storage.confirmations, runner=runner)
        async with registry:
            _, token = await registry.register(
                conversation_id=conversation_id,
                user_id="u1",
                actions=[("execute_transfer", {"amount": 50})],
                prompt="Send 50 EUR?",
            )
            await registry.decide(token, "approve")
            assert (await registry.begin_execution(token)).should_run
    finally:
        await storage.close()


pytestmark = pytest.mark.in_process  # plain requests and answers: no socket needed


def test_runs_interrupted_before_a_start_are_counted_as_unknown_outcomes(
    serve: Serve, tmp_path: Path
) -> None:
    db = serve.db(str(tmp_path / "state.db"))
    asyncio.run(claim_then_die(db, "c1"))
    asyncio.run(claim_then_die(db, "c2"))

    server = serve(db=db)
    with server.client() as client:
        text = client.get("/metrics").text

    assert "soni_action_outcomes_unknown_total 2.0" in text
