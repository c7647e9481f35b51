"""Where the packaged knowledge base and rule sets live.

The repository's top-level ``kb/`` and ``rules/`` are installed as
``infra_policy/kb`` and ``infra_policy/rules``, siblings of this package, so the
same relative path works from a source checkout and from a wheel.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent

PACKAGED_KB = _ROOT / "kb"
PACKAGED_RULES = _ROOT / "rules"
RULES_SCHEMA = PACKAGED_RULES / "schema.json"
# The examples ship too (as ``infra_policy/examples``), with the policy tests that hold the policy to them.
PACKAGED_EXAMPLES = _ROOT / "examples"
PACKAGED_POLICY_TESTS = PACKAGED_EXAMPLES / "policy-tests"


@cache
def rules_schema() -> dict:
    """The packaged JSON Schema of rule files (read once per process)."""
    return json.loads(RULES_SCHEMA.read_text(encoding="utf-8"))
