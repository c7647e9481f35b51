"""`infra-policy init`: plain questions in, a valid, commented facts file out.

The prompts are click's own (already a dependency): plain lines that work in any terminal, over
ssh, with a screen reader and under a test's pseudo-terminal, with no colour and no cursor tricks.
The questions themselves come from the knowledge base (engine/questionnaire.py).
"""

from __future__ import annotations

from pathlib import Path

import click

from .errors import handle_errors
from .output import write_output

_path = click.Path(path_type=Path, allow_dash=True)

ANSWER_HINT = "Enter: don't know · ?: help"


@click.command(short_help="Answer plain questions; get a facts file (no RDF needed).")
@click.option(
    "--output",
    "-o",
    type=_path,
    default=Path("facts.ttl"),
    show_default=True,
    help="The facts file to write (- for standard output). An existing file is kept unless --force.",
)
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(path_type=Path),
    help="Take the answers from this YAML file instead of asking (for scripts).",
)
@click.option("--template", is_flag=True, help="Write a file listing every property, commented out, to fill in.")
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
@click.option(
    "--evaluate/--no-evaluate",
    "evaluate_now",
    default=None,
    help="Evaluate the file once written (default: ask; with --answers: no).",
)
@click.option("--kb", "kb_dir", type=click.Path(path_type=Path), help="Knowledge base directory to ask from.")
@handle_errors
def init(
    output: Path,
    answers_file: Path | None,
    template: bool,
    force: bool,
    evaluate_now: bool | None,
    kb_dir: Path | None,
) -> None:
    """Write a facts file by answering plain questions — no RDF or Turtle knowledge needed.

    First the organization, then each workload (one LLM use case). Every question can be answered
    "don't know" (press Enter): that fact is left out. Type ? for help on a question. The file is
    checked, and you are offered a decision on it straight away.

    \b
    --answers FILE.yaml answers without prompts, for example:
      organization:
        name: Northwind Logistics
        hasDataCenter: no
        itStaffFTE: 1.5
      workloads:
        - name: Customer support chatbot
          dataSensitivity: Confidential
          usersLocation: Regional
    Keys are the property names of `init --template`; null or "don't know"
    leaves a fact out.
    """
    import infra_policy
    from infra_policy.engine.questionnaire import answers_from_yaml, load_questions, render_facts, render_template

    if template and answers_file is not None:
        raise click.UsageError("give either --template or --answers, not both.")
    to_stdout = str(output) == "-"
    if not to_stdout and output.exists() and not force:
        raise click.UsageError(f"{output} exists; give another file with -o, or --force to replace it.")
    questions = load_questions(infra_policy.knowledge_base(kb_dir))
    if template:
        text = render_template(questions)
    elif answers_file is not None:
        organization, workloads = answers_from_yaml(answers_file, questions)
        text = render_facts(questions, organization, workloads)
    else:
        organization, workloads = _interview(questions)
        text = render_facts(questions, organization, workloads)
    checked = infra_policy.validate(text, kb=kb_dir)  # what we write must be valid; a bug otherwise
    write_output(text, None if to_stdout else output)
    if to_stdout:
        return
    count = len(checked.workloads)
    click.echo(
        f"Wrote {output}: {checked.organization}, {count} workload{'s' if count != 1 else ''}"
        f"{' (the organization itself)' if checked.implicit_workload else ''} — valid.",
        err=True,
    )
    if evaluate_now is None:
        evaluate_now = answers_file is None and not template and click.confirm("Evaluate it now?", default=True)
    if evaluate_now:
        click.echo(infra_policy.evaluate(output, kb=kb_dir).to_text(), nl=False)
    else:
        click.echo(f"Next: infra-policy evaluate {output}", err=True)


def _interview(questions):
    from infra_policy.engine.questionnaire import Subject

    click.echo(
        "Questions about your organization (they apply to every workload), then about each\n"
        "workload: one LLM use case, such as a customer support chatbot. Answer in plain words\n"
        "or with a choice's number.\n"
    )
    organization = Subject(_ask_name("Name of your organization", "My organization"))
    click.echo("\n— About the organization —")
    _ask_section(questions, ("organization",), organization)
    workloads: list[Subject] = []
    while True:
        click.echo("")
        name = click.prompt(
            f"Name of workload {len(workloads) + 1} (an LLM use case), or Enter to finish"
            if workloads
            else "Name of a workload (an LLM use case, e.g. Customer support chatbot), or Enter for none",
            default="",
            show_default=False,
        ).strip()
        if not name:
            break
        workload = Subject(name)
        click.echo(f"\n— About {name} —")
        _ask_section(questions, ("workload",), workload)
        _ask_costs(questions, workload)
        workloads.append(workload)
    if not workloads:
        click.echo(
            "\nNo workloads: the organization is evaluated as one workload. A few questions about what\nit would run:"
        )
        _ask_section(questions, ("workload",), organization)
        _ask_costs(questions, organization)
    return organization, workloads


def _ask_name(text: str, default: str) -> str:
    return click.prompt(text, default=default).strip() or default


def _ask_costs(questions, subject) -> None:
    if any(q.section == "cost" for q in questions) and click.confirm(
        f"Do you have cost figures for {subject.name} (cloud prices, hardware quotes)?", default=False
    ):
        _ask_section(questions, ("cost",), subject)


def _ask_section(questions, sections: tuple[str, ...], subject) -> None:
    """The section's first questions; then, if the person wants, the ones marked "more" in kb/questions.ttl."""
    click.echo(f"({ANSWER_HINT})")
    first = [q for q in questions if q.section in sections and not q.more]
    for number, question in enumerate(first, 1):
        subject.answers[question.name] = _ask(question, number, len(first))
    more = [q for q in questions if q.section in sections and q.more]
    topics = ", ".join(q.property.label for q in more)
    if more and click.confirm(f"\n{len(more)} more questions about {subject.name} ({topics})?", default=False):
        for number, question in enumerate(more, 1):
            subject.answers[question.name] = _ask(question, number, len(more))


def _ask(question, number: int, total: int):
    from infra_policy.engine.questionnaire import parse_answer

    click.echo(f"\n[{number}/{total}] {question.text}")
    if question.choices:
        for index, choice in enumerate(question.choices, 1):
            click.echo(f"  {index}) {choice.label}")
        if question.multiple:
            click.echo("  (several allowed, separated by commas)")
    elif question.property.kind == "boolean":
        click.echo("  yes or no")
    while True:
        raw = click.prompt("  >", default="", show_default=False, prompt_suffix=" ")
        if raw.strip() == "?":
            _help(question)
            continue
        try:
            answer = parse_answer(question, raw)
        except ValueError as exc:
            click.echo(f"  Sorry: {exc}. ({ANSWER_HINT})")
            continue
        click.echo("  → don't know (left out)" if answer is None else f"  → {_shown(question, answer)}")
        return answer


def _shown(question, answer) -> str:
    if question.choices:
        labels = {c.name: c.label for c in question.choices}
        names = answer if isinstance(answer, tuple) else (answer,)
        return ", ".join(labels[n] for n in names)
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    return str(answer)


def _help(question) -> None:
    import textwrap

    # the plain help when kb/questions.ttl has one, else the ontology's definition
    text = question.help or question.property.comment
    click.echo(textwrap.fill(" ".join(text.split()), 78, initial_indent="  ", subsequent_indent="  "))
    for index, choice in enumerate(question.choices, 1):
        text = f"{index}) {choice.label}: {choice.help}" if choice.help else f"{index}) {choice.label}"
        click.echo(textwrap.fill(text, 78, initial_indent="    ", subsequent_indent="       "))
