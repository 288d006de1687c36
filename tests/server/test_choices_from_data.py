"""A choice offered from data, over HTTP: one token, an option per item, the chosen one
run once with the item shown, and the others refused after it."""

from __future__ import annotations

import pytest

from .conftest import EXAMPLES, Serve

pytestmark = pytest.mark.in_process  # plain requests and answers: no socket needed


def test_an_option_of_a_list_is_chosen_by_its_name_over_http(serve: Serve) -> None:
    server = serve(EXAMPLES / "dentist")
    with server.client() as client:
        body: dict[str, object] = {}
        for text in ["book an appointment", "Ana Lopez", "2030-05-07"]:
            response = client.post("/conversations/dn-http/messages", json={"text": text})
            assert response.status_code == 200, response.text
            body = response.json()
        (pending,) = body["pending"]  # type: ignore[misc]
        assert pending["options"] == [
            "book_appointment.1", "book_appointment.2", "book_appointment.3"
        ]  # fmt: skip
        assert pending["labels"] == [
            "09:00 with Dr Ruiz", "11:30 with Dr Okafor", "15:00 with Dr Ruiz"
        ]  # fmt: skip
        token = pending["token"]

        chosen = client.post(
            f"/confirmations/{token}/choose", json={"option": "book_appointment.2"}
        )
        assert chosen.status_code == 200, chosen.text
        assert chosen.json()["replies"][0]["text"].startswith(
            "Booked: Ana Lopez, Tuesday 07 May at 11:30 with Dr Okafor."
        )
        record = client.get(f"/confirmations/{token}").json()
        assert record["status"] == "executed" and record["decision"] == "book_appointment.2"

        again = client.post(f"/confirmations/{token}/choose", json={"option": "book_appointment.3"})
        assert again.status_code == 409, again.text
        unknown = client.post(
            f"/confirmations/{token}/choose", json={"option": "book_appointment.9"}
        )
        assert unknown.status_code in (409, 422), unknown.text
