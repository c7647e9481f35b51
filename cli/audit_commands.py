"""`explain` and `audit`, and the record and log writing of `evaluate`."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import click

from infra_policy.engine.analysis import MAX_CHANGES

from .errors import handle_errors
from .output import write_output
from .policy_options import policy_options
from .reading import FACTS_PATH, input_options, read_facts, set_option, strict_option

_path = click.Path(path_type=Path)


def stage_record(record: dict, directory: Path):
    """Stage a record as DIR/<id>.json (put in place by the caller; rewriting the same record is harmless)."""
    from infra_policy.engine.files import OutputError, StagedFile
    from infra_policy.engine.records.record import record_file_name, record_text

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"cannot write the record into {directory}: it is not a directory.") from None
    except OSError as exc:
        raise OutputError(f"cannot write the record into {directory}: {exc.strerror}.") from None
    target = directory / record_file_name(record["id"])
    return target, StagedFile(target, record_text(record).encode("utf-8"))


def append_to_log(record: dict, log: Path, sign=None) -> str:
    """Append one chained entry (see :mod:`infra_policy.engine.records.decision_log`); return the line written."""
    from infra_policy.engine.records.decision_log import append_entry

    return append_entry(record, log, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), sign)


# The stances of the rule-file schema (engine.tally.STANCES, checked equal by a test), written out
# so that --help does not load the engine.
STANCE_CHOICE = click.Choice(["cloud", "in-house", "hybrid", "conflict", "undetermined"], case_sensitive=False)


@click.command(short_help="Show why: the justification of the decision on FACTS as a tree.")
@click.argument("facts", type=FACTS_PATH)
@click.option(
    "--why",
    "why",
    metavar="NODE",
    help="Explain one conclusion: a workload or the organization (its name, any case), a factor or a rule id.",
)
@click.option(
    "--why-not",
    "why_not",
    type=STANCE_CHOICE,
    help="Why the organization and each workload did not get this stance.",
)
@click.option(
    "--sufficient",
    is_flag=True,
    help="Per workload, a minimal set of stated facts that alone decides its stance (the others do not matter).",
)
@click.option(
    "--contrast",
    "--flip",
    "contrast",
    type=STANCE_CHOICE,
    help="Per workload, the smallest sets of fact changes that would give this stance, fewest first.",
)
@click.option(
    "--max-changes",
    type=click.IntRange(1, MAX_CHANGES),
    default=3,
    show_default=True,
    help="With --contrast: the most changes in one set.",
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="With --sufficient: every minimal set (at most 8 per workload; the output says when it stopped "
    "there). With --contrast: every set found, not only the first five.",
)
@click.option("--full", is_flag=True, help="With --why-not: every rule, not only the eight closest to applying.")
@click.option("--verbose", is_flag=True, help="Also name the rules' ids in the text.")
@set_option()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"], case_sensitive=False), default="text", show_default=True
)
@click.option("--output", "-o", type=_path, help="Write to this file (atomically) instead of standard output.")
@policy_options
@input_options
@strict_option
@handle_errors
def explain(
    facts: Path,
    why: str | None,
    why_not: str | None,
    sufficient: bool,
    contrast: str | None,
    max_changes: int,
    show_all: bool,
    full: bool,
    verbose: bool,
    assume: tuple[str, ...],
    fmt: str,
    output: Path | None,
    kb_dir: Path | None,
    rules_dir: Path | None,
    overlays: tuple[Path, ...],
    strict: bool,
    **reading,
) -> None:
    """Show the justification of the decision on FACTS (a file, or - for standard input) as a tree, from
    the stance down to the facts and the article's claims."""
    from infra_policy.engine.names import canonical_name
    from infra_policy.engine.outputs import explain as ex

    from .main import decide

    decision = decide(facts, kb_dir, rules_dir, strict, assume, overlays=overlays, **reading)
    evaluation, policy, kb = decision.evaluation, decision.evaluator.policy, decision.evaluator.kb
    as_json = fmt.lower() == "json"
    if sufficient or contrast:
        asked = {
            "sufficient": sufficient,
            "every": show_all,
            "contrast": contrast.lower() if contrast else None,
            "max_changes": max_changes,
        }
        if as_json:
            text = json.dumps(decision.explain_dict(**asked), indent=2, ensure_ascii=False) + "\n"
        else:
            text = decision.explain_text(**asked)
        write_output(text, output)
        return
    assumed = decision.assumed_text()  # `--set`: the assumed facts come first
    if why_not:
        answers = ex.why_not(evaluation, policy, why_not.lower(), kb.vocabulary)
        text = (
            json.dumps(ex.why_not_dict(answers), indent=2, ensure_ascii=False) + "\n"
            if as_json
            else assumed + ex.render_why_not(answers, limit=None if full else 8, verbose=verbose)
        )
        write_output(text, output)
        return
    roots = [None]
    if why:
        roots = ex.resolve_node(evaluation, policy, canonical_name(evaluation, policy, kb, why))
        if not roots:
            names = ", ".join(w.profile.name for w in evaluation.decision.workloads)
            raise click.UsageError(
                f"--why {why!r} names nothing in this decision; give a workload ({names}), a factor "
                f"(for example {next(iter(kb.factors))}) or a rule id that fired (see `rules list`)."
            )
    words = None if verbose or as_json else ex.NodeWords(evaluation, policy, kb)  # ids only on request
    trees = [ex.tree(evaluation, root, words) for root in roots]
    if as_json:
        write_output(json.dumps([t.to_dict() for t in trees], indent=2, ensure_ascii=False) + "\n", output)
    else:
        write_output(assumed + "\n".join(ex.render_tree(t) for t in trees), output)


def _decision_of(
    path: Path, kb_dir: Path | None, rules_dir: Path | None, reading: dict, overlays: tuple[Path, ...] = ()
) -> dict:
    """The decision document of a facts file (decided now), a decision's JSON or a record."""
    from infra_policy.engine.errors import InputError
    from infra_policy.engine.outputs.export import FORMAT
    from infra_policy.engine.records.record import RECORD_FORMAT

    if path.suffix.lower() == ".json":
        data = _read_json(path, "decision or decision record")
        if data.get("format") == RECORD_FORMAT and isinstance(data.get("decision"), dict):
            return data["decision"]
        if data.get("format") == FORMAT:
            return data
        raise InputError(
            f"{path}: is neither a decision ({FORMAT}, from `evaluate --format json`) nor a decision record "
            f"({RECORD_FORMAT}, from `evaluate --record`): its format is {data.get('format')!r}. "
            "Give a facts file, a decision's JSON or a record."
        )
    from .main import decide

    return decide(path, kb_dir, rules_dir, False, overlays=overlays, **reading).to_dict()


@click.command("diff", short_help="Compare two decisions: stance changes, changed facts, reasons.")
@click.argument("before", type=FACTS_PATH)
@click.argument("after", type=FACTS_PATH)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"], case_sensitive=False), default="text", show_default=True
)
@click.option("--output", "-o", type=_path, help="Write to this file (atomically) instead of standard output.")
@policy_options
@input_options
@handle_errors
def diff(
    before: Path,
    after: Path,
    fmt: str,
    output: Path | None,
    kb_dir: Path | None,
    rules_dir: Path | None,
    overlays: tuple[Path, ...],
    **reading,
) -> None:
    """Compare BEFORE with AFTER — each a facts file (decided now), a decision's JSON (`evaluate --format
    json`) or a decision record: first the stances that changed, then the stated facts that changed (old →
    new), then the reasons that appeared or disappeared."""
    import infra_policy
    from infra_policy.engine.analysis.diff import diff_decisions, render_diff

    a = _decision_of(before, kb_dir, rules_dir, reading, overlays)
    b = _decision_of(after, kb_dir, rules_dir, reading, overlays)
    result = diff_decisions(a, b)
    if fmt.lower() == "json":
        text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
    else:
        vocabulary = infra_policy.knowledge_base(kb_dir).vocabulary
        text = render_diff(result, vocabulary, str(before), str(after))
    write_output(text, output)


@click.command(short_help="Verify a decision RECORD, or a decision log with --log.")
@click.argument("record_file", metavar="[RECORD]", required=False, type=_path)
@click.option(
    "--facts",
    type=FACTS_PATH,
    help="The facts the record was made from (- for standard input): the decision is made again and compared.",
)
@click.option("--log", "log_file", type=_path, help="Verify a decision log's hash chain instead of a record.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"], case_sensitive=False), default="text", show_default=True
)
@click.option(
    "--output", "-o", type=_path, help="Write the report to this file (atomically) instead of standard output."
)
@policy_options
@click.option(
    "--trust",
    "trusted_key",
    type=_path,
    metavar="KEY.pub",
    help="Also require a valid signature by this public key (of the record, or of the log's head).",
)
@click.option("--verbose", is_flag=True, help="Also list every change of the justification graph (firings, edges).")
@input_options
@handle_errors
def audit(
    record_file: Path | None,
    facts: Path | None,
    log_file: Path | None,
    verbose: bool,
    fmt: str,
    output: Path | None,
    kb_dir: Path | None,
    rules_dir: Path | None,
    overlays: tuple[Path, ...],
    trusted_key: Path | None,
    **reading,
) -> None:
    """Verify a decision RECORD (or a decision log with --log FILE); exit 1 if a check fails.

    A record is checked for its own digest, a sound justification graph, citations present in the rules
    and knowledge base in use, and — with --facts — a re-derivation that matches.
    """
    if (record_file is None) == (log_file is None):
        raise click.UsageError("give either a RECORD file or --log FILE.")
    trusted = None
    if trusted_key is not None:
        from infra_policy.engine.records.signing import load_public_key

        trusted = load_public_key(trusted_key)
    if log_file is not None:
        checks = _audit_log(log_file)
        if trusted is not None:
            checks.append(_signature_check(trusted, log_file.with_name(log_file.name + ".head"), "log head"))
    else:
        document = read_facts(facts, **reading) if facts is not None else None
        checks = _audit_record(record_file, document, kb_dir, rules_dir, overlays)
        if trusted is not None:
            checks.append(_signature_check(trusted, record_file, "record"))
    ok = all(c["ok"] for c in checks)
    if fmt.lower() == "json":
        text = json.dumps({"ok": ok, "checks": checks}, indent=2, ensure_ascii=False) + "\n"
    else:
        lines = []
        for c in checks:
            lines.append(f"{'PASS' if c['ok'] else 'FAIL'}  {c['check']}: {c['detail']}")
            lines.extend(f"        {line}" for line in c.get("summary", []))
            detail = c.get("changes", [])
            if verbose or not c.get("summary"):
                lines.extend(f"        changed: {change}" for change in detail)
            elif detail:
                lines.append(f"        ({len(detail)} changes of the justification graph: --verbose lists them)")
        lines.append("audit passed" if ok else "audit FAILED")
        text = "\n".join(lines) + "\n"
    write_output(text, output)
    if not ok:
        raise SystemExit(1)


def _signature_check(trusted, signed_file: Path, what: str) -> dict:
    """Whether ``signed_file`` (a record, or a log head) is signed by the trusted key, as it is now."""
    from infra_policy.engine.records.decision_log import signature_path
    from infra_policy.engine.records.record import record_id_of

    if what == "record":
        signed = record_id_of(_read_json(signed_file, "decision record"))
    else:
        signed = json.dumps(_read_json(signed_file, "log head"), sort_keys=True) if signed_file.exists() else ""
    from infra_policy.engine.records.signing import check_signature

    ok, detail = check_signature(signature_path(signed_file), trusted, signed)
    return {"check": "signature", "ok": ok, "detail": detail}


def _read_json(path: Path, what: str) -> dict:
    from infra_policy.engine.errors import InputError
    from infra_policy.engine.files import read_json
    from infra_policy.engine.records.record import MAX_RECORD_BYTES

    if not os.path.lexists(path):
        raise InputError(f"{path}: no such {what}.")
    data = read_json(path, MAX_RECORD_BYTES, InputError, what)
    if not isinstance(data, dict):
        raise InputError(f"{path}: is not a {what}: expected a JSON object.")
    return data


def _audit_record(
    path: Path, document, kb_dir: Path | None, rules_dir: Path | None, overlays: tuple[Path, ...] = ()
) -> list[dict]:
    import infra_policy
    from infra_policy.engine.records.audit import audit_record

    record = _read_json(path, "decision record")
    evaluator = infra_policy.evaluator(rules=rules_dir, kb=kb_dir, overlays=overlays)
    stem = path.stem if len(path.stem) == 64 else None
    try:
        checks = audit_record(record, evaluator, stem, document)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        # a record whose digest holds (it was re-sealed) but whose content is not what a record holds
        from infra_policy.engine.errors import InputError

        raise InputError(f"{path}: is not a complete decision record (missing or malformed {exc}).") from exc
    return [c.to_dict() for c in checks]


def _audit_log(path: Path) -> list[dict]:
    from infra_policy.engine.errors import InputError
    from infra_policy.engine.files import read_bounded
    from infra_policy.engine.records.record import MAX_LOG_BYTES, log_head, verify_log

    try:
        text = read_bounded(path, MAX_LOG_BYTES, InputError, "decision log").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: is not a decision log: not valid UTF-8 (byte {exc.start}).") from exc
    count, problems = verify_log(text)
    checks = [
        {
            "check": "hash chain",
            "ok": not problems,
            "detail": problems[0].message if problems else f"{count} entries, each chained to the one before",
            **({"changes": [p.message for p in problems[1:]]} if len(problems) > 1 else {}),
        }
    ]
    head_file = path.with_name(path.name + ".head")
    if head_file.exists():
        head = _read_json(head_file, "log head")
        actual = log_head(text)
        if head != actual:
            checks.append(
                {
                    "check": "head",
                    "ok": False,
                    "detail": f"the head file records {head.get('entries')} "
                    f"entries ending in {head.get('last')}, the log has {actual['entries']} ending in "
                    f"{actual['last']}: trailing entries were removed or the last one altered",
                }
            )
        else:
            checks.append({"check": "head", "ok": True, "detail": "the log ends where its head file says"})
    else:
        checks.append(
            {
                "check": "head",
                "ok": False,
                "detail": f"no head file {head_file.name}: removal of the last entries cannot be ruled out",
            }
        )
    return checks
