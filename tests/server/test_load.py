"""Many conversations at once: no errors, and each conversation's turns in order."""

from __future__ import annotations

import asyncio

import httpx

from .conftest import LiveServer

IBAN = "DE89370400440532013000"

CONVERSATIONS = {"sqlite": 50, "postgres": 20}
"""How many talk at once. On PostgreSQL 20 are still twice the connections its pool
keeps for turns in flight (10), so turns queue for one, at less than half the cost."""


def script(number: int) -> list[tuple[str, list[str]]]:
    """Ten turns whose answers depend on every earlier turn of the conversation."""
    amount = number + 1
    return [
        ("what's my balance", ["Which account: checking or savings?"]),
        ("savings", ["Your savings balance is 8000 EUR."]),
        ("send money", ["Who should receive the money?"]),
        ("Bob", ["How much do you want to send?"]),
        (str(amount), ["What is their IBAN?"]),
        (IBAN, [f"Send {amount} EUR to Bob ({IBAN})?"]),
        ("no", ["Nothing was sent."]),
        ("check my checking balance", ["Your checking balance is 1520.5 EUR."]),
        ("send money", ["Who should receive the money?"]),
        ("cancel", ["OK, I've cancelled transfer money."]),
    ]


async def test_many_conversations_of_ten_turns_at_once(server: LiveServer, backend: str) -> None:
    count = CONVERSATIONS[backend]
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with server.async_client(limits=limits) as client:

        async def converse(number: int) -> list[list[str]]:
            heard = []
            for text, _ in script(number):
                answer = await client.post(
                    f"/conversations/load-{number}/messages", json={"text": text}
                )
                assert answer.status_code == 200, answer.text
                heard.append([reply["text"] for reply in answer.json()["replies"]])
            return heard

        results = await asyncio.gather(*(converse(n) for n in range(count)))
        metrics = (await client.get("/metrics")).text

    for number, heard in enumerate(results):
        assert heard == [expected for _, expected in script(number)], number
    assert f'soni_turns_total{{kind="message"}} {count * 10}.0' in metrics
