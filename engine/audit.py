"""Auditing a decision record: is it intact, grounded, and reproducible?

Each check says what it verified and, when it fails, what is wrong.  Nothing
here trusts the record: its id is recomputed, its graph rebuilt and checked,
its citations looked up in the knowledge base and rules in use, and — given
the facts — the decision is made again and compared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import networkx as nx

from .justify import JustificationGraph
from .load import FactsDocument
from .pipeline import Evaluator
from .record import RECORD_FORMAT, record_body, record_id_of, versions


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    changes: tuple[str, ...] = field(default=())
    summary: tuple[str, ...] = field(default=())  # what changed, for people: stances, facts, reasons

    def to_dict(self) -> dict:
        entry = {"check": self.name, "ok": self.ok, "detail": self.detail}
        if self.summary:
            entry["summary"] = list(self.summary)
        if self.changes:
            entry["changes"] = list(self.changes)
        return entry


def graph_from_record(justification: dict) -> nx.DiGraph:
    g = nx.DiGraph()
    for node in justification.get("nodes", []):
        attrs = {k: v for k, v in node.items() if k != "id"}
        g.add_node(node["id"], **attrs)
    for edge in justification.get("edges", []):
        g.add_edge(edge["from"], edge["to"], relation=edge.get("relation", ""))
    return g


def check_digest(record: dict, file_id: str | None) -> Check:
    actual = record_id_of(record)
    claimed = record.get("id")
    if claimed != actual:
        return Check(
            "record digest",
            False,
            f"the record's content digest is {actual}, but it claims {claimed}: "
            "the record was altered after it was written",
        )
    if file_id is not None and file_id != actual.removeprefix("sha256:"):
        return Check("record digest", False, f"the file is named {file_id} but its content digest is {actual}")
    return Check("record digest", True, f"content matches its id {actual}")


def check_graph(record: dict) -> Check:
    g = graph_from_record(record["decision"].get("justification", {}))
    missing = sorted(n for n, data in g.nodes(data=True) if "kind" not in data)
    if missing:
        return Check("justification graph", False, f"edges point to nodes that are not in the graph: {missing[:3]}")
    problems = JustificationGraph(g).problems()
    if problems:
        return Check("justification graph", False, "; ".join(problems[:5]))
    stances = [n for n, d in g.nodes(data=True) if d["kind"] == "stance"]
    recorded = {w["id"]: w["stance"] for w in record["decision"]["workloads"]}
    recorded[record["decision"]["organization"]["id"]] = record["decision"]["organization"]["stance"]
    for node in stances:
        data = g.nodes[node]
        if data.get("subject") in recorded and data.get("stance") != recorded[data["subject"]]:
            return Check(
                "justification graph",
                False,
                f"the graph says {data['subject']} is {data.get('stance')}, "
                f"the decision says {recorded[data['subject']]}",
            )
    return Check(
        "justification graph", True, f"{g.number_of_nodes()} nodes, acyclic, every conclusion grounded in stated facts"
    )


def check_citations(record: dict, evaluator: Evaluator) -> list[Check]:
    inputs = record["decision"]["inputs"]
    checks = []
    for name, current in (("kb", evaluator.kb_digest), ("rules", evaluator.rules_digest)):
        if inputs.get(name) == current:
            checks.append(Check(f"{name} digest", True, f"the {name} in use are those of the record ({current})"))
        else:
            checks.append(
                Check(
                    f"{name} digest",
                    False,
                    f"the record was made with {name} {inputs.get(name)}, the {name} in use are {current}",
                )
            )
    rules = {f["rule"] for f in record.get("firings", [])}
    claims = {
        c for w in record["decision"]["workloads"] for a in (*w["assessments"], *w["constraints"]) for c in a["claims"]
    }
    unknown_rules = sorted(rules - set(evaluator.policy.by_id))
    unknown_claims = sorted(claims - set(evaluator.kb.claims))
    if unknown_rules or unknown_claims:
        detail = "; ".join(
            filter(
                None,
                [
                    f"rules not in the rules in use: {', '.join(unknown_rules)}" if unknown_rules else "",
                    f"claims not in the knowledge base in use: {', '.join(unknown_claims)}" if unknown_claims else "",
                ],
            )
        )
        checks.append(Check("citations", False, detail))
    else:
        checks.append(Check("citations", True, f"all {len(rules)} rules and {len(claims)} claims cited are present"))
    return checks


def _conclusions(record: dict) -> dict[str, object]:
    """What a decision concludes, without where the file said it."""
    d = record["decision"]
    found: dict[str, object] = {f"organization {d['organization']['id']}": d["organization"]["stance"]}
    for w in d["workloads"]:
        key = f"workload {w['id']}"
        found[f"{key} stance"] = w["stance"]
        found[f"{key} stance rule"] = w["stance_rule"]["id"]
        found[f"{key} assessments"] = sorted(f"{a['rule']} {a['favors']} {a['weight']}" for a in w["assessments"])
        found[f"{key} constraints"] = sorted(f"{c['rule']} requires {c['requires']}" for c in w["constraints"])
        found[f"{key} missing facts"] = sorted(m["fact"] for m in w["missing_facts"])
    found["firings"] = sorted(
        f"{f['rule']} @ {f['subject']} using " + json.dumps([f["facts"], f["derived"], f["computed"]], sort_keys=True)
        for f in record.get("firings", [])
    )
    graph = d.get("justification", {})
    found["justification nodes"] = sorted(n["id"] for n in graph.get("nodes", []))
    found["justification edges"] = sorted(f"{e['from']} → {e['to']}" for e in graph.get("edges", []))
    return found


def _change(key: str, before, after) -> str:
    if isinstance(before, list) and isinstance(after, list):
        removed = [x for x in before if x not in after]
        added = [x for x in after if x not in before]
        parts = [f"no longer {', '.join(removed)}" if removed else "", f"now also {', '.join(added)}" if added else ""]
        return f"{key}: " + "; ".join(p for p in parts if p)
    if before is None:
        return f"{key}: new, {after}"
    if after is None:
        return f"{key}: gone (was {before})"
    return f"{key}: {before} → {after}"


def _summary(recorded: dict, fresh: dict, evaluator: Evaluator) -> tuple[str, ...]:
    """The lines that matter of a drift: stance changes, changed facts, reasons (engine.diff)."""
    from .diff import diff_decisions, render_diff

    text = render_diff(diff_decisions(recorded, fresh), evaluator.kb.vocabulary, "the record", "the facts now")
    return tuple(line for line in text.splitlines()[1:] if line.strip())


def check_rederivation(record: dict, evaluator: Evaluator, document: FactsDocument) -> Check:
    fresh = record_body(evaluator.evaluate_document(document), evaluator.policy)
    inputs, now = record["decision"]["inputs"], fresh["decision"]["inputs"]
    drift = [
        f"{name} ({inputs.get(name)} → {now[name]})"
        for name in ("facts", "kb", "rules")
        if inputs.get(name) != now[name]
    ]
    recorded_versions = record.get("versions", {})
    drift += [
        f"{name} version ({recorded_versions.get(name)} → {version})"
        for name, version in versions().items()
        if recorded_versions.get(name) != version
    ]
    before, after = _conclusions(record), _conclusions(fresh)
    changes = [
        _change(key, before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]
    drifted = ", ".join(drift) if drift else "no input drifted"
    summary = _summary(record["decision"], fresh["decision"], evaluator) if changes or drift else ()
    if inputs.get("facts") != now["facts"]:
        return Check(
            "re-derivation",
            False,
            f"the facts given are not those of the record: drifted: {drifted}",
            tuple(changes),
            summary,
        )
    if changes:
        return Check(
            "re-derivation", False, f"the decision made again differs; drifted: {drifted}", tuple(changes), summary
        )
    return Check("re-derivation", True, f"the decision made again matches ({drifted})")


def audit_record(
    record: dict, evaluator: Evaluator, file_id: str | None = None, document: FactsDocument | None = None
) -> list[Check]:
    """Every check of one record (the facts are optional: without them, no re-derivation)."""
    if record.get("format") != RECORD_FORMAT:
        return [
            Check(
                "format", False, f"not a decision record (format {record.get('format')!r}, expected {RECORD_FORMAT!r})"
            )
        ]
    checks = [check_digest(record, file_id), check_graph(record), *check_citations(record, evaluator)]
    if document is not None:
        checks.append(check_rederivation(record, evaluator, document))
    return checks
