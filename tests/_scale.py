"""How hard the fault suites push: a little in every test run, much more in ``make reliability``.

``SONI_FAULT_SCALE=full`` (set by ``make reliability``) runs the audit-sized trials;
anything else, or nothing, the small ones that keep ``make test`` within its budget.
"""

from __future__ import annotations

import os

__all__ = ("FULL", "scaled")

FULL = os.environ.get("SONI_FAULT_SCALE", "ci") == "full"


def scaled(ci: int, full: int) -> int:
    """``full`` under ``make reliability``, ``ci`` otherwise."""
    return full if FULL else ci
