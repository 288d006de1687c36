"""Handlers of the library bot: a pretend catalogue, loans, fines and study rooms in memory."""

from datetime import date, time, timedelta

from soni import ActionContext, ActionRegistry, validator

LOANS: dict[str, list[str]] = {
    "LB-204117": ["Dune", "The Left Hand of Darkness", "Middlemarch"],
    "LB-318840": ["The Very Hungry Caterpillar", "Matilda", "Goodnight Moon"],
    "LB-550921": ["Sapiens", "Thinking, Fast and Slow", "The Body"],
}
RESERVED_BY_OTHERS = {"Middlemarch"}  # renewing these fails, to show on_error
FINES: dict[str, float] = {"LB-204117": 6.50, "LB-318840": 0.0, "LB-550921": 12.80}
CATALOGUE_MISSING = {"the necronomicon"}
BLOCKED: set[str] = set()
ROOMS_TAKEN: set[tuple[date, time]] = set()
LOAN_DAYS = 21
TODAY = date(2026, 12, 10)


def _card(card_number: str) -> str:
    card = card_number.strip().upper()
    if card not in LOANS:
        raise LookupError(f"no card {card_number!r}")
    return card


def _renew(card_number: str, title: str) -> dict[str, str]:
    card = _card(card_number)
    if title not in LOANS[card]:
        raise LookupError(f"{title!r} is not on loan on {card}")
    if title in RESERVED_BY_OTHERS:
        raise PermissionError(f"{title!r} is reserved by another member")
    return {"renewed_until": (TODAY + timedelta(days=LOAN_DAYS)).isoformat()}


@validator("not_more_than_due")
def not_more_than_due(value: float, slots: dict[str, object]) -> bool:
    due = slots.get("fine_due")
    if value <= 0:
        return False
    if isinstance(due, int | float) and value > due:
        raise ValueError(f"You only owe {due} EUR; please give an amount up to that.")
    return True


@ActionRegistry.register("list_loans", idempotent=True)
def list_loans(card_number: str) -> dict[str, str]:
    first, second, third = LOANS[_card(card_number)]
    return {"loan_1": first, "loan_2": second, "loan_3": third}


@ActionRegistry.register("renew_loan_1")
def renew_loan_1(card_number: str, loan_1: str) -> dict[str, str]:
    return _renew(card_number, loan_1)


@ActionRegistry.register("renew_loan_2")
def renew_loan_2(card_number: str, loan_2: str) -> dict[str, str]:
    return _renew(card_number, loan_2)


@ActionRegistry.register("renew_loan_3")
def renew_loan_3(card_number: str, loan_3: str) -> dict[str, str]:
    return _renew(card_number, loan_3)


@ActionRegistry.register("renew_all_loans")
def renew_all_loans(card_number: str) -> dict[str, str]:
    card = _card(card_number)
    # Renew what can be renewed; only when nothing can is it a failure.
    renewable = [title for title in LOANS[card] if title not in RESERVED_BY_OTHERS]
    if not renewable:
        raise PermissionError(f"no loan on {card} can be renewed")
    dates = [_renew(card, title)["renewed_until"] for title in renewable]
    return {"renewed_until": max(dates)}


@ActionRegistry.register("place_hold")
def place_hold(
    book_title: str, branch: str, card_number: str, ctx: ActionContext
) -> dict[str, str]:
    _card(card_number)
    if book_title.strip().lower() in CATALOGUE_MISSING:
        raise LookupError(f"{book_title!r} is not in the catalogue")
    return {"hold_reference": f"H-{ctx.idempotency_key[-6:].upper()}"}


@ActionRegistry.register("get_fines", idempotent=True)
def get_fines(card_number: str) -> dict[str, float]:
    return {"fine_due": FINES[_card(card_number)]}


@ActionRegistry.register("pay_fine")
def pay_fine(card_number: str, fine_amount: float, ctx: ActionContext) -> dict[str, str]:
    card = _card(card_number)
    FINES[card] = round(max(FINES[card] - fine_amount, 0.0), 2)
    return {"payment_reference": f"P-{ctx.idempotency_key[-6:].upper()}"}


@ActionRegistry.register("book_study_room")
def book_study_room(room_date: date, start_time: time, hours: int, people: int) -> dict[str, str]:
    if (room_date, start_time) in ROOMS_TAKEN:
        raise LookupError("every study room is taken then")
    ROOMS_TAKEN.add((room_date, start_time))
    room = "S1" if people <= 4 else "S3"
    return {"room_number": room}


@ActionRegistry.register("block_card")
def block_card(card_number: str, branch: str) -> None:
    BLOCKED.add(_card(card_number))
