"""`infra-policy test` and `infra-policy coverage`: policy tests and rule coverage for policy authors.

Both load the policy through the library's evaluator (``infra_policy.evaluator``), with the same
`--rules`/`--kb` options as every command that evaluates, and decide facts exactly as `evaluate` does.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from .errors import handle_errors
from .output import write_output

_path = click.Path(path_type=Path)


def _evaluator(kb_dir: Path | None = None, rules_dir: Path | None = None, **more):
    """The policy in use: the packaged one, or the one the --rules/--kb options name."""
    import infra_policy

    return infra_policy.evaluator(rules=rules_dir, kb=kb_dir, **more)


def fail_under_option(command):
    return click.option(
        "--fail-under",
        type=click.FloatRange(0, 100),
        metavar="PERCENT",
        help="Exit 1 when the coverage is below PERCENT.",
    )(command)


def _test_files(paths: tuple[Path, ...]) -> list[tuple[Path, str]]:
    """(file, as shown) for every test file the arguments name; the shipped suite when there are none."""
    from infra_policy.engine.paths import PACKAGED_EXAMPLES, PACKAGED_POLICY_TESTS
    from infra_policy.engine.policy.policytests import PolicyTestError

    if not paths:
        # shown relative to the package, so the report reads the same from a checkout and an installed wheel
        root = PACKAGED_EXAMPLES.parent
        return [(p, p.relative_to(root).as_posix()) for p in _yaml_files(PACKAGED_POLICY_TESTS)]
    found: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            files = _yaml_files(path)
            if not files:
                raise PolicyTestError(f"{path}: a directory without policy test files (*.yaml or *.yml).")
            found += [(p, str(p)) for p in files]
        elif not path.exists() and not path.is_symlink():  # a broken link gets the reader's own message
            raise PolicyTestError(f"{path}: no such file; give policy test files (YAML) or directories of them.")
        else:
            found.append((path, str(path)))
    return list(dict.fromkeys(found))


def _yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.is_dir() and p.suffix in (".yaml", ".yml"))


def register(group: click.Group, kb_rules_options, format_option, output_option) -> None:
    """Add `test` and `coverage` to ``group``, with the shared options of the main module (passed in, so that
    this module never imports it: `python -m infra_policy.cli.main` runs that module as ``__main__``)."""

    @click.command("test", short_help="Run policy tests: cases of facts and what the policy must conclude.")
    @click.argument("paths", nargs=-1, type=_path)
    @format_option(
        "text", "json", "junit", help="text for people; json for programs; junit (JUnit XML) for CI systems."
    )
    @output_option
    @click.option("--coverage", is_flag=True, help="Also report the rules' coverage by the cases (see `coverage`).")
    @fail_under_option
    @kb_rules_options
    @handle_errors
    def test_command(
        paths: tuple[Path, ...],
        fmt: str,
        output: Path | None,
        coverage: bool,
        fail_under: float | None,
        **policy,
    ) -> None:
        """Run the policy tests in PATHS (YAML files, or directories of them; by default the suite shipped
        with the examples) against the policy in use, and report each case.

        Exit 0 when every case passes, 1 when one fails (or the coverage is below --fail-under), 2 when a
        test file cannot be used (its file, line and case are named). The file format is described in
        docs/policy-tests.md of the source repository.
        """
        from infra_policy.engine.policy import coverage as rule_coverage
        from infra_policy.engine.policy import policytests

        fmt = fmt.lower()
        if fail_under is not None and not coverage:
            raise click.UsageError("--fail-under needs --coverage.")
        evaluator = _evaluator(**policy)
        vocabulary = evaluator.kb.vocabulary
        files = [
            policytests.read_test_file(path, evaluator.policy, vocabulary, shown) for path, shown in _test_files(paths)
        ]
        decisions = []

        def decide(document):
            decision = evaluator.evaluate_document(document).decision
            decisions.append(decision)
            return decision

        results = [
            policytests.run_file(f, decide, lambda case, f=f: policytests.load_case(case, f.shown, vocabulary))
            for f in files
        ]
        measured = (
            rule_coverage.measure(decisions, evaluator.policy, vocabulary, evaluator.kb.factors) if coverage else None
        )
        if fmt == "json":
            payload = policytests.report_dict(results)
            if measured is not None:
                payload["coverage"] = rule_coverage.coverage_dict(measured)
            text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
        elif fmt == "junit":
            text = policytests.render_junit(results)
        else:
            text = policytests.render_text(results)
            if measured is not None:
                text += "\n" + rule_coverage.render_text(measured)
        write_output(text, output)
        if measured is not None and fmt == "junit":
            click.echo(rule_coverage.render_text(measured), err=True, nl=False)
        failed = policytests.summarize(results).failed
        below = measured is not None and fail_under is not None and measured.percent < fail_under
        if below:
            click.echo(f"coverage {measured.percent:.1f}% is below --fail-under {fail_under:g}%", err=True)
        if failed or below:
            raise SystemExit(1)

    @click.command("coverage", short_help="Which rules fire over a corpus of facts, and which parts never do.")
    @click.argument("facts", nargs=-1, type=_path)
    @click.option(
        "--records",
        "records_dir",
        type=_path,
        help="Also decide again the facts of the decisions in this folder (decision records or decision JSON).",
    )
    @format_option()
    @output_option
    @fail_under_option
    @kb_rules_options
    @handle_errors
    def coverage_command(
        facts: tuple[Path, ...],
        records_dir: Path | None,
        fmt: str,
        output: Path | None,
        fail_under: float | None,
        **policy,
    ) -> None:
        """Decide FACTS (files, directories or glob patterns, as for `evaluate`) and report, per rule, how often
        it fired and which parts of its condition (the items of its all/any, under any not) were never seen
        both holding and failing; rules no facts can make fire are listed apart.

        The figure is the share of outcomes seen: one per rule (it fired) and two per part (held, failed).
        --fail-under PERCENT exits 1 below it.
        """
        from infra_policy.engine.policy import coverage as rule_coverage
        from infra_policy.engine.stages.load import load_facts

        from .batch import expand

        if not facts and records_dir is None:
            raise click.UsageError("give at least one FACTS file or --records DIR.")
        evaluator = _evaluator(**policy)
        # coverage needs what fired, not what would change each stance: that search is skipped
        decisions = [
            evaluator.evaluate_document(load_facts(path), explore_changes=False).decision for path in expand(facts)
        ]
        if records_dir is not None:
            from infra_policy.site.records import read_records

            decisions += [rule_coverage.decide_recorded(r.data, r.source, evaluator) for r in read_records(records_dir)]
        measured = rule_coverage.measure(decisions, evaluator.policy, evaluator.kb.vocabulary, evaluator.kb.factors)
        if fmt.lower() == "json":
            text = json.dumps(rule_coverage.coverage_dict(measured), indent=2, ensure_ascii=False) + "\n"
        else:
            text = rule_coverage.render_text(measured)
        write_output(text, output)
        if fail_under is not None and measured.percent < fail_under:
            click.echo(f"coverage {measured.percent:.1f}% is below --fail-under {fail_under:g}%", err=True)
            raise SystemExit(1)

    group.add_command(test_command)
    group.add_command(coverage_command)
