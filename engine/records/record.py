"""Decision records and the decision log (docs/design.md, "Records and audit").

A record is a JSON document: the decision (the ``decision@1`` JSON, with its
justification graph and input digests), every firing with the facts it
matched, and the versions of the engine and its dependencies.  Its id is the
sha256 of the canonical JSON of all of that, and nothing time-dependent is
inside: the same inputs give a byte-identical record.

The decision log is a file of JSON lines, each carrying the digest of the line
before it (a hash chain), so an altered, removed or reordered entry shows.
The functions here are pure; appending under a lock is the caller's job.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import platform
from dataclasses import dataclass
from importlib import metadata

from infra_policy.engine.model import Firing
from infra_policy.engine.outputs.export import decision_dict
from infra_policy.engine.pipeline import Evaluation
from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.stages.load import FactsDocument

RECORD_FORMAT = "infra-policy/record@1"
# A record of thousands of workloads is a few megabytes; these bound a runaway or hostile file.
MAX_RECORD_BYTES = 100_000_000
MAX_LOG_BYTES = 1_000_000_000
LOG_FORMAT = "infra-policy/log@1"
DEPENDENCIES = ("rdflib", "pyshacl", "durable-rules", "networkx", "PyYAML", "jsonschema")


def canonical_json(data) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def versions() -> dict[str, str]:
    found = {"infra-policy": _version("infra-policy"), "python": platform.python_version()}
    found.update({name: _version(name) for name in DEPENDENCIES})
    return found


def _firing(firing: Firing, doc: FactsDocument) -> dict:
    return {
        "rule": firing.rule,
        "subject": firing.subject,
        "stage": firing.stage,
        "facts": [
            {
                "property": f.property,
                "value": list(f.value) if isinstance(f.value, tuple) else f.value,
                "subject": f.subject,
                # `--set`: assumed, not stated in the facts file
                **({"assumed": True} if any(doc.is_assumed(t) for t in f.triples) else {}),
            }
            for f in firing.facts
        ],
        "derived": list(firing.derived),
        "computed": [{"fact": name, "value": value} for name, value in firing.computed],
    }


def record_body(ev: Evaluation, policy: Policy, engine_versions: dict[str, str] | None = None) -> dict:
    d = ev.decision
    firings = [f for w in d.workloads for f in (*w.firings, w.stance_firing)] + [d.stance_firing]
    body = {
        "format": RECORD_FORMAT,
        "decision": decision_dict(ev, policy),
        "firings": [_firing(f, ev.document) for f in firings],
        "versions": engine_versions if engine_versions is not None else versions(),
    }
    if policy.overlays:
        # the overlays' content as applied (docs/overlays.md, "Records and audit"): an audit names what
        # changed in an overlay file since, not only that its digest differs
        body["overlays"] = [{**o.summary(), "content": o.data} for o in policy.overlays]
    return body


def seal(body: dict) -> dict:
    """The record: ``body`` plus its id, the digest of its canonical JSON."""
    return {"id": sha256(canonical_json(body)), **body}


def record_id_of(record: dict) -> str:
    """Recompute the id of a record (whatever id it claims)."""
    return sha256(canonical_json({k: v for k, v in record.items() if k != "id"}))


def record_file_name(record_id: str) -> str:
    return record_id.removeprefix("sha256:") + ".json"


def record_text(record: dict) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, indent=2) + "\n"


# ---------------------------------------------------------------------------
# the decision log


def line_digest(line: str) -> str:
    return sha256(line.rstrip("\n").encode("utf-8"))


def log_entry(previous_line: str | None, sequence: int, record: dict, logged_at: str) -> str:
    """One log line (without newline) chained to ``previous_line``."""
    decision = record["decision"]
    entry = {
        "format": LOG_FORMAT,
        "seq": sequence,
        "prev": line_digest(previous_line) if previous_line is not None else None,
        "record": record["id"],
        "organization": {k: decision["organization"][k] for k in ("id", "name", "stance")},
        "placement": [[p["workload"], p["stance"]] for p in decision["organization"]["placement"]],
        "inputs": decision["inputs"],
        "logged_at": logged_at,
    }
    if decision.get("assumed"):  # a decision on assumed facts (`--set`) says so in the log too
        entry["assumed"] = decision["assumed"]
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class LogProblem:
    line: int  # 1-based line of the log file
    message: str


def verify_log(text: str) -> tuple[int, list[LogProblem]]:
    """Check the hash chain; return (entries read, problems in file order).

    The first problem names the first altered, removed or reordered entry.
    """
    problems: list[LogProblem] = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        problems.append(LogProblem(len(lines), "the last line is incomplete (the file was truncated mid-entry)"))
    entries: list[dict | None] = []
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
            ok = isinstance(entry, dict) and entry.get("format") == LOG_FORMAT and isinstance(entry.get("seq"), int)
        except ValueError:
            ok = False
        if not ok:
            if number != len(lines) or not problems:
                problems.append(LogProblem(number, f"line {number} is not a log entry (edited or truncated)"))
            entries.append(None)
        else:
            entries.append(entry)
    # sorted, so "is any entry numbered in [expected, seq)?" is a bisection, not a loop over
    # the range (a forged "seq": 10000000000000 would otherwise loop for hours)
    present = sorted({e["seq"] for e in entries if e is not None})
    expected = 1
    previous: tuple[int, str] | None = None  # (seq, line) of the entry before
    for number, (line, entry) in enumerate(zip(lines, entries, strict=True), start=1):
        if entry is None:
            previous = None
            expected += 1
            continue
        seq = entry["seq"]
        if seq > expected and not _any_between(present, expected, seq):
            gone = f"entry {expected}" if seq == expected + 1 else f"entries {expected}–{seq - 1}"
            problems.append(LogProblem(number, f"{gone} is missing before line {number} (removed)"))
        elif seq != expected:
            problems.append(
                LogProblem(
                    number, f"line {number} holds entry {seq} where entry {expected} belongs (reordered or duplicated)"
                )
            )
        elif previous is not None and previous[0] == seq - 1 and entry.get("prev") != line_digest(previous[1]):
            problems.append(
                LogProblem(
                    number - 1,
                    f"entry {seq - 1} (line {number - 1}) was altered: the next entry's chain digest does not match it",
                )
            )
        elif seq == 1 and entry.get("prev") is not None:
            problems.append(LogProblem(number, "entry 1 claims a predecessor: entries before it were removed"))
        previous = (seq, line)
        expected = max(expected, seq) + 1 if seq >= expected else expected
    problems.sort(key=lambda p: p.line)
    return len(lines), problems


def _any_between(ordered: list[int], low: int, high: int) -> bool:
    """Whether the sorted list holds a number n with low <= n < high."""
    index = bisect.bisect_left(ordered, low)
    return index < len(ordered) and ordered[index] < high


def log_head(text: str) -> dict:
    """What a head file records: the number of entries and the last line's digest."""
    lines = [line for line in text.split("\n") if line]
    return {"entries": len(lines), "last": line_digest(lines[-1]) if lines else None}
