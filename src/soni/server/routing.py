"""How soni's HTTP routes read requests: JSON bodies, and the methods a path takes.

Every router of the server declares its routes with ``SoniRoute``, so these rules
hold for every route at once:

- a JSON body that cannot be read — bytes that are not text, nesting deeper than
  the parser goes, a number too long to convert — is a malformed body, answered
  422 ``invalid-request`` like any other, never FastAPI's 400 "There was an error
  parsing the body";
- a 405 lists in ``Allow`` every method of every route that matches the path, not
  just those of the first route the router met (``GET /conversations/{id}`` and
  ``DELETE /conversations/{id}`` are two routes);
- who may call it (``Access``) is read from its dependencies, for the OpenAPI
  document (``openapi.py``): a route that depends on ``KeyCaller`` needs an API key
  when keys are on, one that depends on ``TokenCaller`` is opened by a token.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, get_args

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from soni.server.openapi import ACCESS_KEY, Access
from soni.server.state import KeyCaller, TokenCaller

__all__ = ("SoniRoute", "access", "allowed_methods", "read_json")


def read_json(body: bytes) -> Any:
    """The JSON value of a request body.

    Raises:
        json.JSONDecodeError: the body is not JSON; its ``msg`` says why in words
            a client can act on (FastAPI answers it as a validation error).
    """
    # The encodings json.loads accepts for bytes (UTF-8, or UTF-16/32 by their
    # first bytes), decoded here so that a bad byte is named, not a UnicodeDecodeError.
    encoding = json.detect_encoding(body)
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError(
            f"not {encoding.upper()} text (byte 0x{body[exc.start]:02x} at offset {exc.start})",
            "",
            exc.start,
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", "", 0) from None
    except ValueError:
        # The only other error json.loads raises: an integer longer than Python converts.
        limit = sys.get_int_max_str_digits()
        raise json.JSONDecodeError(f"an integer longer than {limit} digits", "", 0) from None


class _Request(Request):
    """A request whose JSON body is read by ``read_json``."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = read_json(await self.body())
        return self._json


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(scope: Scope) -> list[str]:
    """Every method some route of the app takes at the request's path, sorted.

    Asked of the app's router method by method, as it would route the request:
    routes may sit in included routers, which only the router knows how to walk.
    """
    router = scope.get("router")
    routes = getattr(router, "routes", ())
    allowed = []
    for method in _METHODS:
        # A copy: matching writes FastAPI's routing state into the scope it is given.
        probe = {key: value for key, value in scope.items() if key != "fastapi"}
        probe["method"] = method
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return allowed


def _dependency(annotation: Any) -> Callable[..., Any]:
    depends = next(meta for meta in get_args(annotation)[1:] if hasattr(meta, "dependency"))
    call: Callable[..., Any] = depends.dependency
    return call


_KEY = _dependency(KeyCaller)
_TOKEN = _dependency(TokenCaller)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def access(dependant: Dependant) -> Access:
    """Who may call the route with these dependencies."""
    calls = set(_calls(dependant))
    if _TOKEN in calls:
        return "token"
    return "key" if _KEY in calls else "public"


class SoniRoute(APIRoute):
    """The route class of every soni router (``APIRouter(route_class=SoniRoute)``)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        self.openapi_extra = {**(self.openapi_extra or {}), ACCESS_KEY: access(self.dependant)}

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await handler(_Request(request.scope, request.receive))

        return handle

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            # Starlette would list this route's methods only.
            allow = ", ".join(allowed_methods(scope) or sorted(self.methods))
            raise HTTPException(status_code=405, headers={"Allow": allow})
        await super().handle(scope, receive, send)
