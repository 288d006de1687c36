"""The OpenAPI document as the server's contract: every status and body a route answers.

FastAPI documents each route's success, and a 422 of its own shape for routes with
parameters. soni answers every error as a problem (``errors.py``), so the document
is rewritten when it is built, from one table — ``OPERATIONS``, the problems each
operation can answer — and the settings of the app (with API keys on, the routes
that need one declare the bearer scheme and their 401). ``tests/server/
test_openapi_contract.py`` holds the server to it with schemathesis.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from soni.confirmations import Actor, parse_decision_message
from soni.confirmations.errors import (
    AlreadyDecided,
    ConfirmationClosed,
    ConfirmationExpired,
    ConfirmationNotApproved,
    InvalidDecision,
    InvalidDecisionMessage,
    UnknownConfirmation,
)
from soni.server.errors import (
    PROBLEM_JSON,
    BodyTooLarge,
    ConversationBusy,
    ConversationNotFound,
    NotAuthenticated,
    NotReady,
    Problem,
    problem_for,
)
from soni.server.settings import ServerSettings
from soni.server.transport import head_problem
from soni.wire import ProblemOut

__all__ = (
    "ACCESS_KEY",
    "LINKS",
    "OPERATIONS",
    "Access",
    "build_contract",
    "install_openapi",
    "operation_id",
)

Access = Literal["public", "key", "token"]
"""Who may call an operation: anyone; a caller with an API key (when keys are on);
or, on a route a confirmation token opens, also a caller with only the token when
``decide_by_token_alone`` is on."""

ACCESS_KEY = "x-soni-access"
"""Where ``SoniRoute`` notes an operation's ``Access`` for the build (then removed)."""

_DECIDE = (
    "confirmation-not-found",
    "already-decided",
    "confirmation-conflict",
    "confirmation-expired",
    "confirmation-closed",
    "not-ready",
)

OPERATIONS: Mapping[str, tuple[str, ...]] = {
    # conversations
    # An id the caller has not used starts a conversation: never a 404.
    "post_message": ("conversation-busy", "invalid-request", "not-ready"),
    "get_conversation": ("conversation-not-found", "invalid-request", "not-ready"),
    "delete_conversation": ("conversation-not-found", "invalid-request", "not-ready"),
    "list_confirmations": ("conversation-not-found", "invalid-request", "not-ready"),
    # confirmations
    "approve": (*_DECIDE, "invalid-decision"),
    "skip": _DECIDE,
    "choose": (*_DECIDE, "invalid-decision", "invalid-request"),
    "get_confirmation": ("confirmation-not-found", "invalid-request", "not-ready"),
    # The inbox: the caller's own confirmations, so never another's 404.
    "inbox": ("invalid-request", "not-ready"),
    "post_decision": (*_DECIDE, "invalid-decision", "invalid-decision-message", "invalid-request"),
    # events and the server
    "events": ("invalid-request", "not-ready"),
    "health": (),
    "ready": ("not-ready",),
    "metrics": ("not-ready",),
    "actions": ("not-ready",),
}
"""The problems each operation (by ``operationId``, the route's name) can answer,
besides those of every route: ``body-too-large`` (the body limit applies to every
request), ``uri-too-long`` and ``header-too-large`` (the request head's limits,
which ``soni serve`` enforces before routing) and ``internal-error``; and
``unauthorized``, added from the settings."""

_EVERY_ROUTE = ("body-too-large", "uri-too-long", "header-too-large", "internal-error")

_CONVERSATION = {"conversation_id": "$response.body#/conversation_id"}
_SAME_TOKEN = {"token": "$request.path.token"}


def _token_links(token: str, option: str) -> dict[str, tuple[str, dict[str, str], Any]]:
    """Links to what a confirmation's token opens, the token found at ``token``."""
    return {
        "Approve": ("approve", {"token": token}, None),
        "Skip": ("skip", {"token": token}, None),
        "Choose": ("choose", {"token": token}, {"option": option}),
        "GetConfirmation": ("get_confirmation", {"token": token}, None),
    }


_AFTER_DECISION = {
    "GetConversation": ("get_conversation", _CONVERSATION, None),
    "ApproveAgain": ("approve", _SAME_TOKEN, None),
    "SkipAgain": ("skip", _SAME_TOKEN, None),
    "GetConfirmation": ("get_confirmation", _SAME_TOKEN, None),
}

LINKS: Mapping[str, Mapping[str, tuple[str, dict[str, str], Any]]] = {
    "post_message": {
        "NextMessage": ("post_message", _CONVERSATION, None),
        "GetConversation": ("get_conversation", _CONVERSATION, None),
        "ListConfirmations": ("list_confirmations", _CONVERSATION, None),
        "DeleteConversation": ("delete_conversation", _CONVERSATION, None),
        **_token_links("$response.body#/pending/0/token", "$response.body#/pending/0/options/0"),
    },
    "get_conversation": _token_links(
        "$response.body#/pending/0/token", "$response.body#/pending/0/options/0"
    ),
    "list_confirmations": _token_links(
        "$response.body#/confirmations/0/token", "$response.body#/confirmations/0/options/0"
    ),
    "approve": _AFTER_DECISION,
    "skip": _AFTER_DECISION,
    "choose": _AFTER_DECISION,
}
"""OpenAPI links of each operation's success: where its answer leads (the
conversation it names, the tokens it hands out). Clients and stateful tests follow
them; the request body of a link is given where the answer holds it."""

_SCHEMAS = "#/components/schemas/"

_AT = datetime(2026, 11, 23, 15, 26, 20, tzinfo=UTC)
_ID = "0b5e7c1d9a2f4e6b8c3d5f7a9e1b3c5d"


def _invalid_decision_message() -> InvalidDecisionMessage:
    try:
        parse_decision_message("yes please")
    except InvalidDecisionMessage as exc:
        return exc
    raise AssertionError("'yes please' parsed as a decision message")  # pragma: no cover


def _samples(settings: ServerSettings) -> tuple[tuple[BaseException, str], ...]:
    """One error of each kind, and when it happens: ``problem_for`` makes the examples.

    The examples are thereby answers the server really gives, in the shape it gives them.
    """
    return (
        (NotAuthenticated("unknown API key"), "API keys are on and the key is missing or unknown"),
        (ConversationNotFound("c1"), "unknown conversation, or another user's"),
        (UnknownConfirmation(), "unknown or malformed token, or another user's"),
        (
            AlreadyDecided(_ID, "executed", "execute_transfer", Actor("ann", "http"), _AT),
            "another decision was recorded first",
        ),
        (
            ConfirmationNotApproved(_ID, "pending"),
            "the confirmation's state does not allow the step asked for",
        ),
        (ConversationBusy("c1"), "busy_policy is reject and a turn of the conversation runs"),
        (ConfirmationExpired(_ID, _AT), "its time ran out"),
        (
            ConfirmationClosed(_ID, "superseded"),
            "withdrawn: superseded by a corrected value, or cancelled with its flow",
        ),
        (BodyTooLarge(settings.max_body_bytes), "the body is over max_body_bytes"),
        (
            RequestValidationError(
                [
                    {
                        "type": "string_too_long",
                        "loc": ("path", "conversation_id"),
                        "msg": "String should have at most 256 characters",
                    }
                ]
            ),
            "malformed JSON, or a body or parameter that fails validation",
        ),
        (
            InvalidDecision(
                "'wire' is not an offered option; choose one of 'execute_transfer', or 'skip'",
                ("execute_transfer",),
            ),
            "a decision the confirmation does not offer",
        ),
        (_invalid_decision_message(), "a text that is not a decision message"),
        (NotReady("the bot is not loaded yet"), "the bot is not loaded yet, or shutting down"),
        (RuntimeError("a bug"), "a bug: logged, never caused by bad input"),
    )


def _kinds(settings: ServerSettings) -> dict[str, tuple[Problem, str]]:
    kinds: dict[str, tuple[Problem, str]] = {}
    for sample, when in _samples(settings):
        problem = problem_for(sample)
        kinds[problem.slug] = (problem, when)
    # Answered by soni serve's HTTP layer, before any route: no exception to map.
    line = settings.max_request_line_bytes
    head = settings.max_header_bytes
    for problem, when in (
        (
            head_problem(414, f"the request line is longer than {line} bytes"),
            f"the request line is over max_request_line_bytes ({line})",
        ),
        (
            head_problem(431, f"the request's header fields are larger than {head} bytes"),
            f"the header section is over max_header_bytes ({head})",
        ),
    ):
        kinds[problem.slug] = (problem, when)
    return kinds


def _problems_response(problems: list[tuple[Problem, str]]) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": "; ".join(f"`{problem.slug}`: {when}" for problem, when in problems),
        "content": {
            PROBLEM_JSON: {
                "schema": {"$ref": _SCHEMAS + "Problem"},
                "examples": {
                    problem.slug: {"summary": problem.title, "value": problem.to_json()}
                    for problem, _ in problems
                },
            }
        },
    }
    if any(problem.status == 401 for problem, _ in problems):
        response["headers"] = {
            "WWW-Authenticate": {
                "description": "The scheme to authenticate with: `Bearer`.",
                "required": True,
                "schema": {"type": "string"},
            }
        }
    return response


def _security(access: Access, settings: ServerSettings) -> list[dict[str, list[str]]] | None:
    if not settings.auth_enabled or access == "public":
        return None
    if access == "token" and settings.decide_by_token_alone:
        # Either a key, or nothing but the token in the path.
        return [{"bearer": []}, {}]
    return [{"bearer": []}]


def build_contract(document: dict[str, Any], settings: ServerSettings) -> dict[str, Any]:
    """The document FastAPI generated, made to say what the server answers.

    Raises:
        LookupError: an operation has no entry in ``OPERATIONS``.
    """
    kinds = _kinds(settings)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem = ProblemOut.model_json_schema(ref_template=_SCHEMAS + "{model}")
    for name, definition in problem.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas["Problem"] = problem
    if settings.auth_enabled:
        components["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key of the server's `api_keys` (`SONI_API_KEYS`).",
            }
        }

    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            name = operation.get("operationId")
            if name not in OPERATIONS:
                raise LookupError(
                    f"{method.upper()} {path} (operationId {name!r}) has no entry in "
                    "soni.server.openapi.OPERATIONS: list the problems it can answer"
                )
            access: Access = operation.pop(ACCESS_KEY, "public")
            slugs = [*OPERATIONS[name], *_EVERY_ROUTE]
            security = _security(access, settings)
            if security is not None:
                operation["security"] = security
                slugs.append("unauthorized")
            by_status: dict[int, list[tuple[Problem, str]]] = {}
            for slug in dict.fromkeys(slugs):
                kind = kinds[slug]
                by_status.setdefault(kind[0].status, []).append(kind)
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's HTTPValidationError
            for status in sorted(by_status):
                responses[str(status)] = _problems_response(by_status[status])
            if name in LINKS:
                success = next(code for code in responses if code.startswith("2"))
                responses[success]["links"] = {
                    link: {
                        "operationId": target,
                        "parameters": parameters,
                        **({"requestBody": body} if body is not None else {}),
                    }
                    for link, (target, parameters, body) in LINKS[name].items()
                }
    _drop_unused(schemas, document["paths"])
    return document


def _refs(value: object) -> set[str]:
    """The component schemas ``value`` refers to."""
    if isinstance(value, dict):
        found = set().union(*map(_refs, value.values())) if value else set()
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith(_SCHEMAS):
            found.add(ref.removeprefix(_SCHEMAS))
        return found
    if isinstance(value, list):
        return set().union(*map(_refs, value)) if value else set()
    return set()


def _drop_unused(schemas: dict[str, Any], paths: object) -> None:
    # FastAPI's 422 shape (HTTPValidationError), which soni never answers, and the
    # definitions pydantic emits for types documented inline.
    used: set[str] = set()
    todo = _refs(paths)
    while todo:
        name = todo.pop()
        if name not in used:
            used.add(name)
            todo |= _refs(schemas.get(name))
    for name in set(schemas) - used:
        del schemas[name]


def operation_id(route: APIRoute) -> str:
    """An operation's ``operationId``: its route's name (``post_message``, ``approve``…)."""
    return route.name


def install_openapi(app: FastAPI, settings: ServerSettings) -> None:
    """Serve ``build_contract``'s document at ``/openapi.json`` (and in ``/docs``)."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    built: tuple[dict[str, Any], dict[str, Any]] | None = None

    def openapi() -> dict[str, Any]:
        nonlocal built
        # FastAPI caches its document, and makes a new one when routes are added.
        generated = generate()
        if built is None or built[0] is not generated:
            built = (generated, build_contract(copy.deepcopy(generated), settings))
        return built[1]

    app.openapi = openapi  # type: ignore[method-assign]


DOCS_ASSETS = "/docs/assets"


def install_docs_page(app: FastAPI) -> None:
    """Serve ``/docs``, Swagger UI over ``/openapi.json``, from files soni ships
    (``swagger-ui-bundle``): the page works with no network, where FastAPI's own
    loads its script and styles from a CDN. ``/redoc`` (CDN only) is not served."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs_page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )
