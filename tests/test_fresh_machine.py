"""The suite on a machine without chromium: the browser test skips, unless CI is set."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO


def _run_browser_tests(**env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "CI"}
    environment |= {"CHROMIUM": str(REPO / "no-such-chromium"), **env}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_site_browser.py",
            "tests/test_digest.py",
        ],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_chromium_the_browser_tests_are_skipped_with_a_reason():
    result = _run_browser_tests()
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed, 1 skipped" in result.stdout
    assert "no chromium found (apt-get install chromium)" in result.stdout


def test_without_chromium_in_ci_the_browser_tests_fail():
    result = _run_browser_tests(CI="1")
    assert result.returncode != 0
    assert "CI is set but no chromium was found" in result.stdout
