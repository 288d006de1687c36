"""Handlers of the language school bot: a pretend school office kept in memory."""

from datetime import date, time

from soni import ActionContext, ActionRegistry, validator

# Courses on the student's account: code -> (title, fee in EUR, finished?)
COURSES: dict[str, tuple[str, float, bool]] = {
    "FR-204": ("French B1, evenings", 320.0, True),
    "DE-118": ("German A2, mornings", 320.0, True),
    "JA-310": ("Japanese A1, weekend intensive", 290.0, False),
    "ES-402": ("Spanish C1, mornings", 320.0, True),
}
FULL_GROUPS = {("mandarin", "weekend")}  # enrolling here fails, to show on_error
PLACEMENT_TESTS: list[dict[str, object]] = []
PAYMENTS: dict[str, dict[str, object]] = {}  # by idempotency key
CERTIFICATES: dict[str, str] = {}
MOVES: list[dict[str, object]] = []

PREFIX = {
    "spanish": "ES",
    "french": "FR",
    "german": "DE",
    "italian": "IT",
    "japanese": "JA",
    "mandarin": "ZH",
}
LEVEL_DIGIT = {"beginner": "1", "intermediate": "2", "advanced": "3"}
TIMETABLES = {
    "mornings": ("mornings (Mon-Thu 9:30-11:30)", 320.0),
    "evenings": ("evenings (Tue and Thu 18:30-20:30)", 320.0),
    "weekend": ("the weekend intensive (Sat 9:00-14:00)", 290.0),
}


@validator("not_in_the_past")
def not_in_the_past(value: date) -> bool:
    if value < date.today():
        raise ValueError("That day has already passed; please pick a day from today on.")
    return True


@validator("school_hours")
def school_hours(value: time) -> bool:
    if not time(9, 0) <= value <= time(19, 0):
        raise ValueError("Placement tests start between 9:00 and 19:00.")
    return True


@validator("instalment_count")
def instalment_count(value: int) -> bool:
    return 1 <= value <= 3


def _enrol(language: str, level: str, which: str, ctx: ActionContext) -> dict[str, object]:
    if (language, which) in FULL_GROUPS:
        raise LookupError(f"the {which} group of {language} is full")
    label, fee = TIMETABLES[which]
    number = len(COURSES) + 100
    code = f"{PREFIX[language]}-{LEVEL_DIGIT[level]}{number % 100:02d}"
    COURSES[code] = (f"{language.title()} {level}, {which}", fee, False)
    return {"course_code": code, "timetable": label, "fee": fee}


@ActionRegistry.register("enrol_mornings")
def enrol_mornings(language: str, level: str, ctx: ActionContext) -> dict[str, object]:
    return _enrol(language, level, "mornings", ctx)


@ActionRegistry.register("enrol_evenings")
def enrol_evenings(language: str, level: str, ctx: ActionContext) -> dict[str, object]:
    return _enrol(language, level, "evenings", ctx)


@ActionRegistry.register("enrol_weekend")
def enrol_weekend(language: str, level: str, ctx: ActionContext) -> dict[str, object]:
    return _enrol(language, level, "weekend", ctx)


@ActionRegistry.register("book_placement")
def book_placement(
    student_name: str, email: str, test_date: date, test_time: time, ctx: ActionContext
) -> dict[str, str]:
    if test_date.weekday() == 6:
        raise LookupError("the school is closed on Sundays")
    reference = f"PT-{len(PLACEMENT_TESTS) + 1:04d}"
    PLACEMENT_TESTS.append(
        {
            "name": student_name,
            "email": email,
            "date": test_date,
            "time": test_time,
            "reference": reference,
        }
    )
    return {"test_reference": reference}


def _course(course_code: str) -> tuple[str, float, bool]:
    course = COURSES.get(course_code.strip().upper())
    if course is None:
        raise LookupError(f"no course {course_code!r}")
    return course


@ActionRegistry.register("get_fee", idempotent=True)
def get_fee(course_code: str) -> dict[str, object]:
    title, fee, _ = _course(course_code)
    return {"course_title": title, "fee": fee}


@ActionRegistry.register("split_fee", idempotent=True)
def split_fee(fee: float, instalments: int) -> dict[str, float]:
    return {"instalment_amount": round(fee / instalments, 2)}


def find_payment(ctx: ActionContext) -> dict[str, str] | None:
    payment = PAYMENTS.get(ctx.idempotency_key)
    return None if payment is None else {"receipt_number": str(payment["receipt"])}


@ActionRegistry.register("pay_course_fee", reconcile=find_payment)
def pay_course_fee(
    course_code: str,
    fee: float,
    instalments: int,
    instalment_amount: float,
    ctx: ActionContext,
) -> dict[str, str]:
    receipt = f"RC-{ctx.idempotency_key[-6:].upper()}"
    PAYMENTS[ctx.idempotency_key] = {
        "course": course_code.upper(),
        "amount": round(instalment_amount, 2),
        "instalments": instalments,
        "receipt": receipt,
    }
    return {"receipt_number": receipt}


@ActionRegistry.register("find_course", idempotent=True)
def find_course(course_code: str) -> dict[str, object]:
    title, _, finished = _course(course_code)
    return {"course_title": title, "course_finished": finished}


@ActionRegistry.register("issue_certificate")
def issue_certificate(
    course_code: str, certificate_format: str, ctx: ActionContext
) -> dict[str, str]:
    number = CERTIFICATES.setdefault(ctx.idempotency_key, f"CERT-{len(CERTIFICATES) + 1:05d}")
    return {"certificate_number": number}


@ActionRegistry.register("move_group")
def move_group(
    course_code: str, new_timetable: str, switch_date: date, ctx: ActionContext
) -> dict[str, str]:
    if new_timetable == "weekend intensive" and course_code.upper().startswith("ZH"):
        raise LookupError("the weekend group is full")
    MOVES.append({"course": course_code.upper(), "to": new_timetable, "from": switch_date})
    return {"timetable": new_timetable}
