"""Entry point of the ``infra-policy`` console script.

Heavy libraries are imported inside the commands that need them, so
``--help`` and ``--version`` stay instant.  Errors the engine raises on purpose
become one message and an exit status: 2 for bad input or usage, 3 for an
internal error; ``--debug`` shows the traceback
(docs/design.md, "Errors and exit status").  The commands are thin: the work is done by the library API
(``infra_policy.evaluate`` and ``infra_policy.validate``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import click

from infra_policy.engine.analysis import MAX_CHANGES

from .batch import batch_options
from .errors import handle_errors
from .output import write_output
from .policy_options import policy_options
from .reading import FACTS_PATH, input_options, read_facts, set_option, show_warnings, strict_option

_path = click.Path(path_type=Path)

# Help is wrapped to 80 columns whatever the terminal's width, so it reads the same everywhere.
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 80}


def _version() -> str:
    from infra_policy import version

    return version()


def output_option(command):
    return click.option(
        "--output", "-o", type=_path, help="Write to this file (atomically) instead of standard output."
    )(command)


def format_option(*choices: str, help: str = "text for people, json for programs."):
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices or ("text", "json")), case_sensitive=False),
        default="text",
        show_default=True,
        help=help,
    )


@click.group(context_settings=CONTEXT)
@click.version_option(_version(), "--version", prog_name="infra-policy")
@click.option("--debug", is_flag=True, help="Show the full traceback when something fails.")
def main(debug: bool) -> None:
    """Decide where to run your LLMs — cloud, in-house or hybrid — and prove why.

    New here? `infra-policy init` asks plain questions and writes the facts
    file (Turtle) for you; `infra-policy init --template` writes one with every
    property explained. Then run `infra-policy evaluate FILE`. The README and
    docs/design.md of the source repository describe the rest.
    """


# --rules, --kb and --overlay: every command that decides takes the same three (cli/policy_options.py)
_kb_rules_options = policy_options


def decide(
    facts: Path,
    kb_dir: Path | None,
    rules_dir: Path | None,
    strict: bool,
    assume: tuple[str, ...] = (),
    explore_changes: bool | None = None,
    overlays: tuple[Path, ...] = (),
    max_changes: int | None = None,
    jobs: int = 1,
    **reading,
):
    """Read FACTS (a file or `-`), evaluate them through the library API (with any `--set` facts
    assumed, under any --overlay; a large organization's workloads in ``jobs`` processes) and show its warnings."""
    import infra_policy

    decision = infra_policy.evaluate(
        read_facts(facts, **reading),
        rules=rules_dir,
        kb=kb_dir,
        strict=strict,
        assume=assume,
        explore_changes=explore_changes,
        overlays=overlays,
        max_changes=max_changes,
        jobs=jobs,
    )
    show_warnings(decision.warnings)
    return decision


def _facts_arguments(command):
    return click.argument("facts", nargs=-1, required=True, type=FACTS_PATH)(command)


@main.command(short_help="Evaluate FACTS: the stance per workload and for the organization.")
@_facts_arguments
@format_option(
    "text",
    "json",
    "turtle",
    "jsonld",
    help="text for people; json for programs (format infra-policy/decision@1, described by a JSON Schema in "
    "the source repository's docs/); turtle or jsonld for the W3C PROV-O derivation.",
)
@click.option(
    "--output",
    "-o",
    type=_path,
    help="Write to this file (atomically) instead of standard output; with several files, FILE.jsonl for "
    "JSON Lines or DIR/ for one file each.",
)
@click.option(
    "--record",
    "record_dir",
    type=_path,
    help="Also write the decision record to DIR/<id>.json (content-addressed; see `audit`).",
)
@click.option("--log", "log_file", type=_path, help="Also append the decision to this hash-chained decision log.")
@click.option(
    "--sign",
    "signing_key",
    type=_path,
    metavar="KEY",
    help="Sign the record (DIR/<id>.json.sig) and the log head (FILE.head.sig) with this private key "
    "(`infra-policy keys generate KEY`).",
)
@click.option(
    "--detail",
    type=click.Choice(["short", "full"], case_sensitive=False),
    default="short",
    show_default=True,
    help="Text: full shows every reason, question and outweighed argument.",
)
@click.option("--verbose", is_flag=True, help="Text: also name the rules' ids.")
@set_option()
@click.option(
    "--explore-changes/--no-explore-changes",
    default=None,
    help="Search, for each workload, what would change its stance: the fewest fact changes toward each "
    "other stance, the missing facts and the questions (default: only for organizations of up to 100 "
    "workloads; the output says when it was left out).",
)
@click.option(
    "--max-changes",
    type=click.IntRange(1, MAX_CHANGES),
    default=None,
    help="What would change each stance: search sets of up to this many fact changes, as `explain --flip` "
    "does (default: every single change, then pairs within a small budget; the output says what was searched).",
)
@_kb_rules_options
@input_options
@strict_option
@batch_options(
    jobs_help="How many worker processes evaluate: the files of a batch (results keep the files' order), or "
    "the workloads of one large organization (a few hundred or more; the same output as with one)."
)
@handle_errors
def evaluate(
    facts: tuple[Path, ...],
    fmt: str,
    detail: str,
    verbose: bool,
    assume: tuple[str, ...],
    output: Path | None,
    record_dir: Path | None,
    log_file: Path | None,
    signing_key: Path | None,
    explore_changes: bool | None,
    max_changes: int | None,
    kb_dir: Path | None,
    rules_dir: Path | None,
    overlays: tuple[Path, ...],
    strict: bool,
    jobs: int,
    keep_going: bool,
    **reading,
) -> None:
    """Evaluate FACTS (a file, or - for standard input) and print the stance per workload and for the
    organization, with the reasons and the facts that could change it.

    Several files, a directory or a glob pattern ('facts/*.ttl') make a batch: --format json writes JSON
    Lines (one decision per line, {"source": FILE, "decision": {...}}), --format text a summary table,
    -o DIR/ one file each (the same bytes as a single-file run); see --jobs and --keep-going.
    """
    from .batch import is_batch

    fmt = fmt.lower()
    sign = None
    if signing_key is not None:
        if record_dir is None and log_file is None:
            raise click.UsageError("--sign signs a record or a log head: give --record DIR or --log FILE too.")
        from infra_policy.engine.records.signing import load_private_key, signature_for

        private_key = load_private_key(signing_key)  # before any work: a wrong key should fail fast

        def sign(text: str) -> bytes:
            return signature_for(private_key, text)

    if is_batch(facts, output):
        if assume:
            raise click.UsageError(
                "--set assumes facts of one facts file (its organization and workloads): give one FACTS file."
            )
        _evaluate_batch(
            facts,
            fmt=fmt,
            output=output,
            record_dir=record_dir,
            log_file=log_file,
            kb_dir=kb_dir,
            rules_dir=rules_dir,
            strict=strict,
            jobs=jobs,
            keep_going=keep_going,
            reading=reading,
            sign=sign,
            explore_changes=explore_changes,
            overlays=overlays,
            max_changes=max_changes,
        )
        return
    decision = decide(
        facts[0], kb_dir, rules_dir, strict, assume, explore_changes, overlays, max_changes, jobs, **reading
    )
    if fmt == "json":
        # streamed: a decision on thousands of workloads is never one string
        text = functools.partial(decision.write_json, jobs=jobs)
    elif fmt in ("turtle", "jsonld"):
        text = decision.to_rdf(fmt)
    else:
        text = decision.to_text(detail.lower(), verbose=verbose)
    record = decision.record() if record_dir is not None or log_file is not None else None
    _publish(text, record, output, record_dir, log_file, sign)


def _evaluate_batch(
    facts,
    *,
    fmt,
    output,
    record_dir,
    log_file,
    kb_dir,
    rules_dir,
    strict,
    jobs,
    keep_going,
    reading,
    sign=None,
    explore_changes=None,
    overlays=(),
    max_changes=None,
):
    import json

    import infra_policy

    from .batch import Outcome, expand, run_batch, wants_directory

    files = expand(facts)
    one_file_each = wants_directory(output)
    keep = record_dir is not None or log_file is not None
    infra_policy.evaluator(rules=rules_dir, kb=kb_dir, overlays=overlays)  # loaded once, before any worker forks

    def work(path: Path) -> Outcome:
        decision = infra_policy.evaluate(
            read_facts(path, **reading),
            rules=rules_dir,
            kb=kb_dir,
            strict=strict,
            explore_changes=explore_changes,
            overlays=overlays,
            max_changes=max_changes,
        )
        if one_file_each:
            text = (
                decision.to_json()
                if fmt == "json"
                else (decision.to_rdf(fmt) if fmt in ("turtle", "jsonld") else decision.to_text())
            )
        elif fmt == "json":
            text = json.dumps(decision.to_dict(), ensure_ascii=False)
        else:
            text = None
        count = len(decision.placement)
        row = (str(path), decision.organization, str(count), decision.stance)
        return Outcome(str(path), text, row, decision.warnings, record=decision.record() if keep else None)

    run_batch(
        files,
        work,
        fmt=fmt,
        output=output,
        jobs=jobs,
        keep_going=keep_going,
        header=("file", "organization", "workloads", "stance"),
        payload_key="decision",
        error_row=lambda source: (source, "", "", "error"),
        # each file's record and log entry, all or nothing, as for a single file
        on_record=(lambda outcome: _publish("", outcome.record, None, record_dir, log_file, sign)) if keep else None,
    )


def _publish(
    text: str | Callable[[Callable[[str], object]], None],
    record: dict | None,
    output: Path | None,
    record_dir: Path | None,
    log_file: Path | None,
    sign=None,
):
    """Write the output, the record and the log entry — every one of them, or none.

    The output and the record are staged beside their targets first; the log
    entry is appended next (all or nothing); only then are the staged files
    put in place, so a failing record or log leaves `-o` untouched. ``text`` may
    be a function writing the output piece by piece through the ``write`` it is given.
    """
    from infra_policy.engine.files import StagedFile, commit_all

    staged: list[StagedFile] = []
    record_path = None
    try:
        if output is not None:
            staged.append(StagedFile(output, text if callable(text) else text.encode("utf-8")))
        if record_dir is not None:
            from .audit_commands import stage_record

            record_path, staged_record = stage_record(record, record_dir)
            staged.append(staged_record)
            if sign is not None:
                from infra_policy.engine.records.decision_log import signature_path

                staged.append(StagedFile(signature_path(record_path), sign(record["id"])))
        if log_file is not None:
            from .audit_commands import append_to_log

            append_to_log(record, log_file, sign)
    except BaseException:
        for file in staged:
            file.discard()
        raise
    commit_all(staged)
    if output is None and callable(text):
        stdout = click.get_text_stream("stdout")
        text(stdout.write)
        stdout.flush()
    elif output is None:
        click.echo(text, nl=False)
    if record_path is not None:
        click.echo(f"record: {record_path}", err=True)
    if log_file is not None:
        click.echo(f"logged: {record['id']} → {log_file}", err=True)


@main.command("what-if", short_help="Decide FACTS again with some facts changed, and show what moves.")
@click.argument("facts", type=FACTS_PATH)
@set_option(required=True)
@format_option()
@output_option
@_kb_rules_options
@input_options
@handle_errors
def what_if(
    facts: Path,
    assume: tuple[str, ...],
    fmt: str,
    output: Path | None,
    kb_dir: Path | None,
    rules_dir: Path | None,
    overlays: tuple[Path, ...],
    **reading,
) -> None:
    """Decide FACTS as stated and again with each --set fact assumed; show which stances change."""
    import json

    import infra_policy

    result = infra_policy.what_if(
        read_facts(facts, **reading), list(assume), rules=rules_dir, kb=kb_dir, overlays=overlays
    )
    show_warnings(result.after.warnings)
    if fmt.lower() == "json":
        text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
    else:
        text = result.to_text()
    write_output(text, output)


@main.command(short_help="Check FACTS against the vocabulary and shapes.")
@_facts_arguments
@format_option()
@click.option(
    "--output",
    "-o",
    type=_path,
    help="Write to this file (atomically) instead of standard output; with several files, FILE.jsonl for "
    "JSON Lines or DIR/ for one file each.",
)
@click.option("--kb", "kb_dir", type=_path, help="Knowledge base directory to use instead of the packaged one.")
@input_options
@strict_option
@batch_options()
@handle_errors
def validate(
    facts: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    kb_dir: Path | None,
    strict: bool,
    jobs: int,
    keep_going: bool,
    **reading,
) -> None:
    """Check FACTS (a file, or - for standard input) against the vocabulary and shapes without evaluating
    them; exit 2 listing every problem.

    Several files, a directory or a glob pattern make a batch, as for `evaluate`: JSON Lines
    ({"source": FILE, "validation": {...}}), a summary table, or -o DIR/ for one file each.
    """
    import json

    import infra_policy

    from .batch import Outcome, expand, is_batch, run_batch, wants_directory

    fmt = fmt.lower()
    if not is_batch(facts, output):
        result = infra_policy.validate(read_facts(facts[0], **reading), kb=kb_dir, strict=strict)
        show_warnings(result.warnings)
        write_output(_validation_text(result, fmt), output)
        return
    files = expand(facts)
    one_file_each = wants_directory(output)
    infra_policy.knowledge_base(kb_dir)  # loaded once, before any worker forks

    def work(path: Path) -> Outcome:
        result = infra_policy.validate(read_facts(path, **reading), kb=kb_dir, strict=strict)
        if one_file_each:
            text = _validation_text(result, fmt)
        elif fmt == "json":
            text = json.dumps(result.to_dict(), ensure_ascii=False)
        else:
            text = None
        row = (str(path), "valid", result.organization, str(len(result.workloads)), str(result.triples))
        return Outcome(str(path), text, row, result.warnings)

    run_batch(
        files,
        work,
        fmt=fmt,
        output=output,
        jobs=jobs,
        keep_going=keep_going,
        header=("file", "result", "organization", "workloads", "triples"),
        payload_key="validation",
        error_row=lambda source: (source, "invalid", "", "", ""),
    )


def _validation_text(result, fmt: str) -> str:
    import json

    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
    count = len(result.workloads)
    implicit = " (implicit: the organization itself)" if result.implicit_workload else ""
    return (
        f"{result.source}: valid — organization {result.organization!r}, {count} workload{'s' if count != 1 else ''}"
        f"{implicit}, {result.triples} triple{'s' if result.triples != 1 else ''}.\n"
    )


@main.group()
def rules() -> None:
    """Inspect the rule sets."""


@rules.command("list")
@format_option()
@output_option
@_kb_rules_options
@handle_errors
def rules_list(
    fmt: str, output: Path | None, kb_dir: Path | None, rules_dir: Path | None, overlays: tuple[Path, ...]
) -> None:
    """List every rule: id, what it concludes, and its title.

    With --overlay, the rules of the policy the overlays make (added ones name their overlay file).
    """
    from infra_policy.engine.knowledge import load_knowledge_base
    from infra_policy.engine.policy.rulecatalog import catalogue, render_catalogue

    kb = load_knowledge_base(kb_dir)
    from infra_policy.engine.policy.ruleload import load_policy

    policy = load_policy(kb, rules_dir, overlays)
    entries = catalogue(policy)
    if fmt.lower() == "json":
        import json

        write_output(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", output)
    else:
        write_output(render_catalogue(entries), output)


@rules.command("check", short_help="Check the rules: directions, cliffs, dead and shadowed rules, double counting.")
@format_option()
@output_option
@_kb_rules_options
@handle_errors
def rules_check(
    fmt: str, output: Path | None, kb_dir: Path | None, rules_dir: Path | None, overlays: tuple[Path, ...]
) -> None:
    """Check that the rules respect the directions the knowledge base declares and that every rule can matter;
    exit 1 naming what breaks it.

    For every fact whose raising the knowledge base says favors one side
    (ip:raisingPushesToward), one step up must never lower that side's weight,
    raise the other's, rule that side out or make the other feasible again; and
    no single threshold of a number may move a side's weight by more than one
    point (a cliff). Each violation names the fact, the step, the other facts
    and the rules that change. With --overlay, the policy the overlays make is checked.

    Also failures: a rule no facts can make fire (its tests contradict each
    other or the vocabulary's domains), and a stance, plan or organization rule
    that is shadowed (whenever it fires, a rule that comes first fires too).
    A warning, not a failure: two assessments for the same side that rest on
    the same claims, can fire together and are both counted (double counting).
    """
    from infra_policy.engine.knowledge import load_knowledge_base
    from infra_policy.engine.policy.lint import lint_policy
    from infra_policy.engine.policy.monotone import check_policy
    from infra_policy.engine.policy.ruleload import load_policy

    kb = load_knowledge_base(kb_dir)
    # every fact is walked below, so the loader's own check of the facts an overlay reaches is not needed
    policy = load_policy(kb, rules_dir, overlays, check_directions=False)
    report = check_policy(policy, kb.vocabulary)
    findings = lint_policy(policy, kb.vocabulary, kb.factors)
    failures = [f for f in findings if f.failure]
    warnings = [f for f in findings if not f.failure]
    ok = report.ok and not failures
    if fmt.lower() == "json":
        import json

        payload = {
            "ok": ok,
            "facts_checked": list(report.facts),
            "undeclared": list(report.undeclared),
            "violations": [
                {"kind": v.kind, "fact": v.fact, "rules": list(v.rules), "text": v.text} for v in report.violations
            ]
            + [{"kind": f.kind, "fact": None, "rules": list(f.rules), "text": f.text} for f in failures],
            "warnings": [{"kind": f.kind, "rules": list(f.rules), "text": f.text} for f in warnings],
        }
        write_output(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", output)
    else:
        lines = [f"FAIL {v.kind} · {v.fact}: {v.text}" for v in report.violations]
        lines += [f"FAIL {f.kind}: {f.text}" for f in failures]
        lines += [f"warning {f.kind}: {f.text}" for f in warnings]
        lines += [
            f"note · {name}: the rules read it but the knowledge base declares no direction (not checked)"
            for name in report.undeclared
        ]
        problems = len(report.violations) + len(failures)
        verdict = "passed" if ok else f"failed: {problems} violation(s)"
        checked = (
            f"{len(report.facts)} facts checked against their declared direction and for cliffs, "
            f"{len(policy.rules)} rules for conditions that can never hold and for shadowing"
        )
        warned = f"; {len(warnings)} warning(s)" if warnings else ""
        lines.append(f"rules check {verdict} — {checked}{warned}.")
        write_output("\n".join(lines) + "\n", output)
    if not ok:
        raise SystemExit(1)


def _register_commands() -> None:
    from .audit_commands import audit, diff, explain
    from .impact import impact
    from .site import site_command

    main.add_command(explain)
    main.add_command(audit)
    main.add_command(diff)
    main.add_command(impact)
    main.add_command(site_command(handle_errors, _kb_rules_options))
    from .init import init

    main.add_command(init)
    main.add_command(keys)
    from .policy_commands import register

    register(main, _kb_rules_options, format_option, output_option)


@click.group()
def keys() -> None:
    """Make keys for signed records and logs."""


@keys.command("generate", short_help="Write a new Ed25519 key pair: KEY and KEY.pub.")
@click.argument("key", type=_path)
@handle_errors
def keys_generate(key: Path) -> None:
    """Write a new Ed25519 private KEY (mode 0600) and its public key KEY.pub (what auditors trust)."""
    from infra_policy.engine.records.signing import generate_keys

    public = generate_keys(key)
    click.echo(f"private key: {key} (keep it secret)\npublic key: {public} (give it to auditors: audit --trust)")


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
