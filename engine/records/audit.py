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

from infra_policy.engine.outputs.prov import is_iri
from infra_policy.engine.pipeline import Evaluator
from infra_policy.engine.records.record import RECORD_FORMAT, record_body, record_id_of, versions
from infra_policy.engine.stages.justify import JustificationGraph
from infra_policy.engine.stages.load import FactsDocument


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
    not_iris = sorted(
        str(n)
        for n, data in g.nodes(data=True)
        if not is_iri(n) or any(name in data and not is_iri(data[name]) for name in ("subject", "property"))
    )
    if not_iris:
        return Check("justification graph", False, f"nodes whose id, subject or property is not an IRI: {not_iris[:3]}")
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


# What a re-derivation may change without the decision changing, because the
# facts digest deliberately ignores how the facts file is written: where it
# states each fact (line numbers) and how it abbreviates IRIs (a fact node's
# label uses the file's prefixes; the node's subject, property and value are
# compared in full).  Everything else in the record is compared.
FREE_KEYS = frozenset({"line", "lines"})
# Not part of the decision: the record's own digest (checked on its own) and
# the versions of the engine and its dependencies (reported as drift).
UNCOMPARED = frozenset({"id", "versions"})
FREE_FIELDS = (
    "the line numbers of facts (`line`, `lines`) and the label of a justification node of kind `fact`; "
    "the record's `id` and `versions` are checked on their own"
)

# How the items of a list of objects are told apart, most specific first: the
# first key set whose values are present and unique on both sides is used, so
# a change is named by the item it is in rather than by its position.
_IDENTITIES = (
    ("id",),
    ("rule", "subject"),
    ("rule",),
    ("workload",),
    ("factor",),
    ("fact",),
    ("property", "subject"),
    ("from", "to", "relation"),
)
_SHOWN = 160  # characters of a value quoted in a change


def _free(key: str, container: dict) -> bool:
    return key in FREE_KEYS or (key == "label" and container.get("kind") == "fact")


def _show(value) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _identity(before: list, after: list) -> tuple[str, ...] | None:
    items = [*before, *after]
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for keys in _IDENTITIES:
        if all(k in item for item in items for k in keys):
            for side in (before, after):
                names = [_item_key(item, keys) for item in side]
                if len(set(names)) != len(names):
                    break
            else:
                return keys
    return None


def _item_key(item: dict, keys: tuple[str, ...]) -> str:
    return ",".join(f"{k}={item[k] if isinstance(item[k], str) else _show(item[k])}" for k in keys)


def _list_differences(path: str, before: list, after: list, out: list[str]) -> None:
    keys = _identity(before, after)
    if keys is not None:
        old = {_item_key(item, keys): item for item in before}
        new = {_item_key(item, keys): item for item in after}
        for name in old:
            if name in new:
                _differences(f"{path}[{name}]", old[name], new[name], out)
            else:
                out.append(f"{path}[{name}]: gone (was {_show(old[name])})")
        out.extend(f"{path}[{name}]: new, {_show(new[name])}" for name in new if name not in old)
        common = [name for name in old if name in new]
        if common != [name for name in new if name in old]:
            out.append(f"{path}: the same items in another order")
        return
    if all(not isinstance(x, (dict, list)) for x in [*before, *after]):
        old_texts, new_texts = [_show(x) for x in before], [_show(x) for x in after]
        removed = [x for x in old_texts if x not in new_texts]
        added = [x for x in new_texts if x not in old_texts]
        if removed or added:
            parts = [
                f"no longer {', '.join(removed)}" if removed else "",
                f"now also {', '.join(added)}" if added else "",
            ]
            out.append(f"{path}: " + "; ".join(p for p in parts if p))
        elif old_texts != new_texts:
            out.append(f"{path}: {_show(before)} → {_show(after)}")
        return
    for index, (old_item, new_item) in enumerate(zip(before, after, strict=False)):
        _differences(f"{path}[{index}]", old_item, new_item, out)
    for index in range(len(after), len(before)):
        out.append(f"{path}[{index}]: gone (was {_show(before[index])})")
    for index in range(len(before), len(after)):
        out.append(f"{path}[{index}]: new, {_show(after[index])}")


def _differences(path: str, before, after, out: list[str]) -> None:
    # Recursion follows the freshly made record, whose depth the engine fixes;
    # a deeper recorded value is simply a different value.
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(before.keys() | after.keys()):
            if _free(key, after if key in after else before):
                continue
            where = f"{path}.{key}" if path else key
            if key not in after:
                out.append(f"{where}: gone (was {_show(before[key])})")
            elif key not in before:
                out.append(f"{where}: new, {_show(after[key])}")
            else:
                _differences(where, before[key], after[key], out)
    elif isinstance(before, list) and isinstance(after, list):
        _list_differences(path, before, after, out)
    elif type(before) is not type(after) or before != after:
        out.append(f"{path}: {_show(before)} → {_show(after)}")


def record_differences(recorded: dict, fresh: dict) -> list[str]:
    """Every field in which two records differ, each as ``path: before → after``.

    Generic over the record's structure: a field added to records later is
    compared without changing this function.  :data:`FREE_FIELDS` says what is
    not compared.
    """
    out: list[str] = []
    _differences(
        "",
        {k: v for k, v in recorded.items() if k not in UNCOMPARED},
        {k: v for k, v in fresh.items() if k not in UNCOMPARED},
        out,
    )
    return out


def _summary(recorded: dict, fresh: dict, evaluator: Evaluator) -> tuple[str, ...]:
    """The lines that matter of a drift: stance changes, changed facts, reasons (engine.diff)."""
    from infra_policy.engine.analysis.diff import diff_decisions, render_diff

    text = render_diff(diff_decisions(recorded, fresh), evaluator.kb.vocabulary, "the record", "the facts now")
    return tuple(line for line in text.splitlines()[1:] if line.strip())


def _rederived(record: dict, evaluator: Evaluator, document: FactsDocument):
    """The evaluation of ``document`` made the way the record's was: with or without the search of what
    would change each stance (`evaluate --explore-changes`, `--no-explore-changes` or the default),
    told by what the record says it left out."""
    from infra_policy.engine.outputs.export import left_out_json

    decision = record.get("decision")
    wanted = decision.get("left_out") if isinstance(decision, dict) else None
    evaluation = evaluator.evaluate_document(document)
    for explore in (True, False):
        if left_out_json(evaluation.decision) == wanted:
            break
        evaluation = evaluator.evaluate_document(document, validate=False, explore_changes=explore)
    return evaluation


def _with_assumptions(record: dict, evaluator: Evaluator, document: FactsDocument) -> tuple[FactsDocument, str]:
    """The facts given with the facts the record assumed (`evaluate --set`) applied again, and a note saying so.

    What each assumption replaced is worked out from the facts given, so a record whose assumed facts
    were relabelled as stated, or the reverse, does not match the decision made again.
    """
    from infra_policy.engine.analysis.whatif import assumed_lines, changed_document, recorded_changes

    entries = record["decision"].get("assumed")
    if entries is None:
        return document, ""
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _AssumptionsNotApplicableError("its `assumed` facts are not a list of assumptions")
    changes, problems = recorded_changes(entries, document, evaluator.kb.vocabulary)
    if problems:
        raise _AssumptionsNotApplicableError("; ".join(problems))
    words = "; ".join(assumed_lines(changes, evaluator.kb.vocabulary))
    count = "fact" if len(changes) == 1 else f"{len(changes)} facts"
    return changed_document(document, changes, evaluator.kb.vocabulary), (
        f"with the {count} the record assumed, not stated in the facts ({words})"
    )


class _AssumptionsNotApplicableError(Exception):
    """The record's assumed facts cannot be applied to the facts given."""


def check_rederivation(record: dict, evaluator: Evaluator, document: FactsDocument) -> Check:
    from infra_policy.engine.errors import InputError

    try:
        document, assumed = _with_assumptions(record, evaluator, document)
        fresh = record_body(_rederived(record, evaluator, document), evaluator.policy)
    except _AssumptionsNotApplicableError as exc:
        return Check("re-derivation", False, f"the record's assumed facts cannot be applied to the facts given: {exc}")
    except InputError as exc:
        if not record["decision"].get("assumed"):
            raise  # the facts given are themselves invalid: bad input, not a failed check
        return Check("re-derivation", False, f"the facts given, with the record's assumed facts, are not valid: {exc}")
    made_again = f"the decision made again {assumed}" if assumed else "the decision made again"
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
    changes = record_differences(record, fresh)
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
        return Check("re-derivation", False, f"{made_again} differs; drifted: {drifted}", tuple(changes), summary)
    return Check("re-derivation", True, f"{made_again} matches ({drifted})")


def check_overlays(record: dict, evaluator: Evaluator) -> Check | None:
    """Whether the policy overlays in use are those the record was made with (None: neither has any).

    The record names each overlay by file name and content digest, and holds its content, so a changed
    overlay file is named with what changed in it (docs/overlays.md, "Records and audit").
    """
    recorded = record["decision"]["inputs"].get("overlays") or []
    contents = {o.get("digest"): o.get("content") for o in record.get("overlays", []) if isinstance(o, dict)}
    in_use = list(evaluator.policy.overlays)
    if not recorded and not in_use:
        return None
    problems: list[str] = []
    used_by_file = {o.file: o for o in in_use}
    for index, entry in enumerate(recorded):
        name, file, digest = entry.get("name"), entry.get("file"), entry.get("digest")
        given = used_by_file.get(file) or (in_use[index] if index < len(in_use) else None)
        if given is None:
            problems.append(
                f"the record was made with overlay {file} ({name}, {digest}), which was not given: give it with "
                "--overlay to audit against the policy the record was made with"
            )
        elif given.digest != digest:
            changes: list[str] = []
            if isinstance(contents.get(digest), dict):
                _differences("", contents[digest], given.data, changes)
            what = f"; it now differs in: {'; '.join(changes[:8])}" if changes else ""
            problems.append(
                f"overlay {given.file} is not the one the record was made with: the record holds {file} "
                f"{digest}, the file given is {given.digest} — it was changed after the record was made{what}"
            )
    recorded_files = [e.get("file") for e in recorded]
    for overlay in in_use:
        if overlay.file not in recorded_files and overlay.digest not in {e.get("digest") for e in recorded}:
            problems.append(f"overlay {overlay.file} was given, but the record was made without it")
    if not problems and [o.digest for o in in_use] != [e.get("digest") for e in recorded]:
        problems.append("the overlays were given in another order than the record's (they apply in order)")
    if problems:
        return Check("overlays", False, "; ".join(problems))
    names = ", ".join(f"{o.file} ({o.digest})" for o in in_use)
    return Check("overlays", True, f"the overlays in use are those of the record: {names}")


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
    overlays = check_overlays(record, evaluator)
    if overlays is not None:
        checks.insert(3, overlays)  # before the rules digest, which an overlay changes too
    if document is not None:
        checks.append(check_rederivation(record, evaluator, document))
    return checks
