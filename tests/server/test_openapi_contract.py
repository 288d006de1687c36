"""The OpenAPI document is the server's contract, and schemathesis holds the server to it.

Every check schemathesis has runs on every answer, with API keys off and on: each
operation through the examples, coverage and fuzzing phases (positive and negative
data), then stateful scenarios that follow the document's links from a conversation
brought to a pending confirmation. A failed check fails the test.

The app answers in-process (ASGI). Its lifespan starts with a test's first request
and stops when the test ends (schemathesis's pytest plugin), so each test serves a
bot of its own, in memory. ``SONI_FAULT_SCALE=full`` runs the audit-sized trial.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, initialize
from schemathesis import AuthContext, Case
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput
from schemathesis.openapi.checks import UseAfterFree

from soni.server import ServerSettings, create_app
from soni.wire import ProblemOut

from .._scale import FULL, scaled
from ..engine.conftest import DEPLOYMENT_SECRET, EXAMPLES
from .conftest import TRANSFER

BANKING = EXAMPLES / "banking"
IDENTITIES = Path(__file__).parent / "files" / "identities.json"
# The keys of files/identities.json.
KEYS = {"contract-key-alice": "alice", "contract-key-bob": "bob"}
MESSAGES = "/conversations/{conversation_id}/messages"
# What positive_data_acceptance accepts by default (schemathesis 4).
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# What a user of the banking bot says, for the stateful scenarios: random text only
# ever gets "Sorry, I didn't understand that".
CHAT = (*TRANSFER, "yes", "no", "send 20 euros to Ann", "what is my balance?")


def _settings(keys: bool) -> ServerSettings:
    # A long poll holds its request this long at most: the contract is the same.
    return ServerSettings(api_keys=KEYS if keys else {}, long_poll_max=0.05)


def _config(keys: bool) -> schemathesis.Config:
    data: dict[str, Any] = {
        # Every check; none is turned off. Those about state (use_after_free,
        # ensure_resource_availability, object_level_authorization) act in the
        # stateful scenarios, where requests follow one another.
        "checks": {"enabled": True},
        "generation": {
            "mode": "all",
            "max-examples": scaled(ci=10, full=250),
            # No example database: no files shared between tests or runs.
            "database": "none",
        },
        "operations": [
            {
                # A confirmation's state decides these answers, which no static schema
                # can: an expired or withdrawn one answers 410, and the options it
                # offers are its own, so a well-formed option it does not offer (or
                # approving a choice of several) answers 422 invalid-decision. Both
                # are documented; they are not schema-valid requests rejected.
                "include-operation-id": ["approve", "skip", "choose", "post_decision"],
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": [*POSITIVE_STATUSES, "410", "422"]
                    }
                },
            }
        ],
        # /events never ends by itself; its first event is enough to check it.
        "max-stream-events": 1,
        "request-timeout": 10,
    }
    if not FULL:
        # The small run is the same every time; the full one explores afresh.
        data["seed"] = 20261123
    if keys:
        # Two users, each with a key: requests go as alice, and the
        # object_level_authorization check replays her reads as bob.
        data["auth"] = {
            "wfc": {"path": str(IDENTITIES), "user": "alice", "peers": ["alice", "bob"]}
        }
    return schemathesis.Config.from_dict(data)


def _schema(keys: bool, **load_options: Any) -> Any:
    load_options.setdefault("db", ":memory:")
    app = create_app(BANKING, _settings(keys), **load_options)
    # The document the app serves at /openapi.json (FastAPI serves app.openapi()),
    # read without starting the app: from_asgi would start it at import.
    schema = schemathesis.openapi.from_dict(app.openapi(), config=_config(keys))
    schema.app = app
    return schema


def _chatting(schema: Any) -> Any:
    """``schema``, whose chat messages are things the banking bot understands."""

    @schema.hook
    def flatmap_body(context: Any, body: Any) -> Any:
        operation = context.operation
        if (
            operation is not None
            and operation.label == f"POST {MESSAGES}"
            and isinstance(body, dict)
            and isinstance(body.get("text"), str)
        ):
            return st.sampled_from(CHAT).map(lambda text: {**body, "text": text})
        return st.just(body)

    return schema


OPEN = _schema(keys=False)
KEYED = _schema(keys=True)


@pytest.fixture
def tally() -> list[int]:
    """A test's requests so far, for its headline figure."""
    return [0]


def _figure(request: pytest.FixtureRequest, label: str, requests: int) -> None:
    # The test function runs once per generated case: the figure is rewritten as
    # the count grows, and the report takes the last one (record_property appends).
    properties = request.node.user_properties
    properties[:] = [item for item in properties if item[0] != "figure"]
    properties.append(
        ("figure", f"schemathesis {label}: {requests:,} requests, every check passed")
    )


# Every case generated for an operation goes to the same running app, as requests
# to a server do; hypothesis warns that function-scoped fixtures (``handlers``: the
# example bots' actions the app loads) are not reset between its examples.
SHARED = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@OPEN.parametrize()
@SHARED
def test_without_api_keys_every_answer_is_as_documented(
    case: Case, handlers: object, tally: list[int], request: pytest.FixtureRequest
) -> None:
    case.call_and_validate()
    tally[0] += 1
    _figure(request, f"keys off, {case.operation.label}", tally[0])


@KEYED.parametrize()
@SHARED
def test_with_api_keys_every_answer_is_as_documented(
    case: Case, handlers: object, tally: list[int], request: pytest.FixtureRequest
) -> None:
    case.call_and_validate()
    tally[0] += 1
    _figure(request, f"keys on, {case.operation.label}", tally[0])


def _run_scenarios(
    keys: bool,
    label: str,
    request: Any,
    examples: int = scaled(ci=14, full=300),
    **load_options: Any,
) -> None:
    schema = _chatting(_schema(keys, **load_options))
    messages = schema[MESSAGES]["POST"]
    statuses: dict[str, set[int]] = {}
    steps = [0]
    # Conversations a message started again after they were deleted, this scenario.
    restarted: set[str] = set()

    @schema.hook
    def filter_failure(context: Any, failure: Any, case: Case, response: Any) -> bool:
        # A conversation id may be used again once deleted (docs/server.md): the first
        # message to /conversations/{id}/messages starts a new conversation. The
        # use_after_free check counts a resource as created again only by a request
        # to a prefix of its path, so it misses that; this drops exactly those reads.
        if isinstance(failure, UseAfterFree):
            return (case.path_parameters or {}).get("conversation_id") not in restarted
        return True

    class Scenarios(schema.as_state_machine()):  # type: ignore[misc]
        """Scenarios start from a conversation waiting for a confirmation."""

        @initialize(target=Bundle("catch_all"))
        def open_a_transfer(self) -> StepOutput:
            restarted.clear()
            # Not drawn: hypothesis replays choices, and a drawn id could name a
            # conversation an earlier scenario left behind, answering differently.
            conversation_id = str(uuid.uuid4())
            # The document's links lead from here to the confirmation's routes.
            output = None
            for text in TRANSFER:
                case = messages.Case(
                    path_parameters={"conversation_id": conversation_id},
                    body={"text": text},
                    media_type="application/json",
                )
                if keys:
                    # As alice, through the identities' provider: the checks then
                    # know whose conversation it is (object_level_authorization).
                    schema.auth.set(case, AuthContext(operation=messages, app=schema.app))
                step = StepInput.initial(case)
                # What schemathesis's own root rules do before a step: the stateful
                # checks look cases up in the recorder.
                self.recorder.record_case(case=case)
                self.control.record_step(step, self.recorder)
                output = self.step(step)
            assert output is not None
            assert output.response.json()["pending"], output.response.text
            return output

        def after_call(self, response: Any, case: Case) -> None:
            super().after_call(response, case)
            steps[0] += 1
            operation = case.operation.label
            statuses.setdefault(operation, set()).add(response.status_code)
            conversation = (case.path_parameters or {}).get("conversation_id")
            if (
                operation == "DELETE /conversations/{conversation_id}"
                and response.status_code == 204
            ):
                restarted.discard(conversation)
            elif operation == f"POST {MESSAGES}" and response.status_code == 200:
                restarted.add(conversation)

    Scenarios.run(
        settings=settings(
            max_examples=examples,
            stateful_step_count=scaled(ci=8, full=15),
            deadline=None,
            database=None,
            derandomize=not FULL,
        )
    )
    request.node.user_properties.append(
        ("figure", f"schemathesis {label}, stateful: {steps[0]:,} requests, every check passed")
    )
    # The scenarios reached what only they can: routes opened by live tokens.
    live = {"approve", "skip", "choose"}
    assert any(
        200 in statuses.get(f"POST /confirmations/{{token}}/{verb}", set()) for verb in live
    ), statuses


def test_without_api_keys_stateful_scenarios_keep_the_contract(
    handlers: object, request: pytest.FixtureRequest
) -> None:
    _run_scenarios(False, "keys off", request)


def test_with_api_keys_stateful_scenarios_keep_the_contract(
    handlers: object, request: pytest.FixtureRequest
) -> None:
    _run_scenarios(True, "keys on", request)


# The postgres case alone: without a PostgreSQL it skips with every other one.
@pytest.mark.parametrize("backend", ["postgres"])
def test_stateful_scenarios_keep_the_contract_on_postgresql(
    handlers: object, backend: str, postgres_with_schema: str, request: pytest.FixtureRequest
) -> None:
    """The scenarios with keys on (ownership checked), fewer of them, on a bot on PostgreSQL.

    The others run in memory: they check the HTTP layer, and the store under it answers
    the same on every backend; these check that it does on PostgreSQL too. The database
    is a fixture's: it is dropped after schemathesis stops the app, at the test's end.
    """
    _run_scenarios(
        True,
        "keys on, PostgreSQL",
        request,
        examples=scaled(ci=4, full=100),
        db=postgres_with_schema,
        secret=DEPLOYMENT_SECRET,
    )


# -- the document itself ------------------------------------------------------------


def _document(keys: bool, **settings: Any) -> dict[str, Any]:
    app = create_app(BANKING, ServerSettings(api_keys=KEYS if keys else {}, **settings))
    document: dict[str, Any] = app.openapi()
    return document


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


@pytest.mark.parametrize("keys", [False, True], ids=["keys-off", "keys-on"])
def test_every_example_in_the_document_is_valid_against_its_schema(keys: bool) -> None:
    document = _document(keys)
    checked = 0
    for label, operation in _operations(document):
        media = [
            (f"{label} {status}", content)
            for status, response in operation["responses"].items()
            for content in response.get("content", {}).values()
        ]
        media += [
            (f"{label} body", content)
            for content in operation.get("requestBody", {}).get("content", {}).values()
        ]
        for where, content in media:
            examples = [e["value"] for e in content.get("examples", {}).values()]
            examples += [content["example"]] if "example" in content else []
            # The schema, with the document's components to resolve its references.
            validator = jsonschema_rs.validator_for(
                {**content["schema"], "components": document["components"]}
            )
            for example in examples:
                errors = [e.message for e in validator.iter_errors(example)]
                assert not errors, (where, example, errors)
                checked += 1
    assert checked > 30


def test_every_error_is_a_problem_and_fastapis_422_shape_is_gone() -> None:
    document = _document(keys=True)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for label, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], label
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, label
                for example in response["content"]["application/problem+json"]["examples"]:
                    problem = ProblemOut.model_validate(
                        response["content"]["application/problem+json"]["examples"][example][
                            "value"
                        ]
                    )
                    assert problem.status == int(status), (label, example)
        # The body limit applies to every request; a bug can happen anywhere.
        assert {"413", "500"} <= set(operation["responses"]), label


def test_the_document_describes_authentication_as_the_app_is_configured() -> None:
    without = _document(keys=False)
    assert "securitySchemes" not in without["components"]
    for label, operation in _operations(without):
        assert "security" not in operation, label
        assert "401" not in operation["responses"], label

    keyed = _document(keys=True)
    (name, scheme), *others = keyed["components"]["securitySchemes"].items()
    assert (name, scheme["type"], scheme["scheme"], others) == ("bearer", "http", "bearer", [])
    public = {"GET /health", "GET /ready"}
    for label, operation in _operations(keyed):
        if label in public:
            assert "security" not in operation and "401" not in operation["responses"], label
        else:
            assert operation["security"] == [{"bearer": []}], label
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"], label

    # A token alone may open the confirmation routes: the key is optional there.
    by_token = _document(keys=True, decide_by_token_alone=True)
    optional = {label for label, op in _operations(by_token) if {} in op.get("security", [])}
    assert optional == {
        "POST /confirmations/{token}/approve",
        "POST /confirmations/{token}/skip",
        "POST /confirmations/{token}/choose",
        "GET /confirmations/{token}",
        "POST /decisions",
    }


def test_confirmation_statuses_are_those_of_the_confirmation_records() -> None:
    from soni.confirmations.records import Status

    schemas = _document(keys=False)["components"]["schemas"]
    values = [status.value for status in Status]
    assert schemas["ConfirmationOut"]["properties"]["status"]["enum"] == values
    assert schemas["Problem"]["properties"]["confirmation_status"]["enum"] == values


async def test_the_served_document_is_the_checked_one_and_its_decision_examples_work(
    handlers: object,
) -> None:
    app = create_app(BANKING, _settings(keys=False), db=":memory:")
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://soni") as client,
    ):
        served = (await client.get("/openapi.json")).json()
        assert served == json.loads(json.dumps(app.openapi()))
        body = served["paths"]["/decisions"]["post"]["requestBody"]["content"]
        # Well-formed decision messages: an unknown token, not a malformed message.
        text = await client.post(
            "/decisions",
            content=body["text/plain"]["example"],
            headers={"Content-Type": "text/plain"},
        )
        as_json = await client.post("/decisions", json=body["application/json"]["example"])
        for answer in (text, as_json):
            assert answer.status_code == 404, answer.text
            assert answer.json()["type"] == "urn:soni:problem:confirmation-not-found"
