"""The three servers bench/http.py loads, each run in its own process by uvicorn.

    (bench/http.py starts them: _http_apps.main() with argv soni|bare|echo PORT DB)

* ``soni`` — ``soni.server.create_app`` serving examples/banking, with the
  transport options ``soni serve`` uses (``soni.server.transport.uvicorn_options``).
* ``bare`` — the same steps of the banking bot's balance check hand-written in bare
  LangGraph behind FastAPI, with the same SQLite checkpointer: a message starts the
  flow (it asks which account), the answer resumes it, the balance is looked up and
  told.
* ``echo`` — a FastAPI endpoint that answers with the text it got (the HTTP floor).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypedDict

import aiosqlite
import uvicorn
from fastapi import FastAPI
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt
from pydantic import BaseModel

BANKING = Path(__file__).resolve().parent.parent / "examples" / "banking"
BALANCES = {"checking": 1520.5, "savings": 8000.0}


class Message(BaseModel):
    text: str
    user_id: str | None = None


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.post("/conversations/{conversation_id}/messages")
    async def message(conversation_id: str, body: Message) -> dict[str, Any]:
        return {"conversation_id": conversation_id, "replies": [{"text": body.text}]}

    return app


class BalanceState(TypedDict, total=False):
    account: str | None
    replies: list[str]
    message: str


async def _wait(state: BalanceState) -> dict[str, Any]:
    return {"message": interrupt("account?"), "replies": []}


async def _store(state: BalanceState) -> dict[str, Any]:
    answer = state["message"].strip().lower()
    if answer in BALANCES:
        return {"account": answer}
    return {"replies": ["Which account: checking or savings?"]}


async def _ask(state: BalanceState) -> dict[str, Any]:
    return {"replies": ["Which account: checking or savings?"], "account": None}


async def _tell(state: BalanceState) -> dict[str, Any]:
    account = state["account"] or ""
    return {"replies": [f"Your {account} balance is {BALANCES[account]} EUR."]}


def _after_store(state: BalanceState) -> str:
    return "tell" if state.get("account") else "wait"


def bare_app(db: str) -> FastAPI:
    graph = StateGraph(BalanceState)
    graph.add_node("ask", _ask)
    graph.add_node("wait", _wait)
    graph.add_node("store", _store)
    graph.add_node("tell", _tell)
    graph.add_edge(START, "ask")
    graph.add_edge("ask", "wait")
    graph.add_edge("wait", "store")
    graph.add_conditional_edges("store", _after_store, ["tell", "wait"])
    graph.add_edge("tell", END)
    paused: set[str] = set()
    compiled: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        connection = await aiosqlite.connect(db)
        await connection.execute("PRAGMA journal_mode=WAL")
        saver = AsyncSqliteSaver(connection)
        await saver.setup()
        compiled["graph"] = graph.compile(checkpointer=saver)
        yield
        await connection.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/conversations/{conversation_id}/messages")
    async def message(conversation_id: str, body: Message) -> dict[str, Any]:
        config: Any = {"configurable": {"thread_id": conversation_id}}
        if conversation_id in paused:
            run: Any = Command(resume=body.text)
        else:
            run = {"replies": [], "account": None}
        result = await compiled["graph"].ainvoke(run, config, durability="exit")
        if "__interrupt__" in result:
            paused.add(conversation_id)
        else:
            paused.discard(conversation_id)
        return {"conversation_id": conversation_id, "replies": result["replies"]}

    return app


def soni_app(db: str) -> Any:
    from soni.server import create_app

    return create_app(BANKING, db=db)


def main() -> None:
    kind, port, db = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    app = {"echo": lambda: echo_app(), "bare": lambda: bare_app(db), "soni": lambda: soni_app(db)}[
        kind
    ]()
    options: dict[str, Any] = {}
    if kind == "soni":
        from soni.server import ServerSettings
        from soni.server.transport import uvicorn_options

        # As soni serve runs it: with its request-line, header and frame limits.
        options = uvicorn_options(ServerSettings.from_env())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, **options)


if __name__ == "__main__":
    main()
