"""Shared pieces of the fuzz tests: how many examples, a hang guard, the CLI verdict.

CI runs a modest number of examples per test; set ``INFRA_POLICY_FUZZ_EXAMPLES``
to run more (``bench/fuzz.py`` runs 10,000 and more and prints the time).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("INFRA_POLICY_FUZZ_EXAMPLES", "20"))

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    # Speed is measured in bench/, not asserted here; a hang is caught by hang_guard.
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    derandomize="INFRA_POLICY_FUZZ_SEED" not in os.environ,
    database=None,
)

# A run takes well under a second; one that has not finished after this long is hung. bench/fuzz.py runs
# at low priority on a shared machine, where a starved run can take minutes: it raises the bound
# (INFRA_POLICY_HANG_SECONDS), which still catches a run blocked for good (a read that never returns).
HANG_SECONDS = int(os.environ.get("INFRA_POLICY_HANG_SECONDS", "60"))


class HangError(AssertionError):
    pass


@contextlib.contextmanager
def hang_guard(what: str) -> Iterator[None]:
    """Fail (instead of blocking the suite forever) if the body never returns."""

    def alarm(signum, frame):
        raise HangError(f"no answer after {HANG_SECONDS} s: {what}")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check_cli_verdict(exit_code: int, output: str, context: str) -> None:
    """Exit 0, or exit 2 with one clear message: never a traceback or an internal error."""
    assert "Traceback" not in output, f"{context}\n{output}"
    assert exit_code in (0, 2), f"exit {exit_code} for {context}\n{output}"
    if exit_code == 2:
        assert output.startswith(("error: ", "Usage: ")), f"{context}\n{output}"
        assert "internal error" not in output, f"{context}\n{output}"
        assert len(output.strip()) > len("error: "), context
