"""The questionnaire of `infra-policy init`, generated from the knowledge base.

Which questions exist, whether they are about the organization or a workload,
what kind of answer each takes and which values are allowed all come from the
vocabulary (kb/ontology.ttl and kb/shapes.ttl): a property added there is asked
without a change here. kb/questions.ttl only adds plain wording (question, help,
order, and the optional "cost" section). Answers become a commented Turtle facts
file; "don't know" leaves the fact out.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rdflib import RDFS, Graph, Literal, Namespace

from infra_policy.engine.errors import InputError, problem_list
from infra_policy.engine.knowledge import KnowledgeBase
from infra_policy.engine.stages.inputs import read_text_input
from infra_policy.engine.stages.load import load_kb_graph
from infra_policy.engine.vocabulary import IP, Property

Q = Namespace("https://w3id.org/infra-policy/questionnaire#")
QUESTIONS_FILE = "questions.ttl"
SECTIONS = ("organization", "workload", "cost")
DONT_KNOW_WORDS = frozenset({"", "-", "?-", "dont know", "don't know", "do not know", "unknown", "n/a", "na", "skip"})
_YES = frozenset({"y", "yes", "true", "1"})
_NO = frozenset({"n", "no", "false", "0"})
MAX_ANSWERS_BYTES = 1_000_000

Answer = str | int | float | bool | tuple[str, ...]


class AnswersError(InputError):
    """An answers file (`init --answers`) cannot be used."""

    @classmethod
    def listing(cls, source: object, problems: list[str]) -> AnswersError:
        return cls(problem_list(source, problems, "in the answers"), tuple(problems))


@dataclass(frozen=True)
class Choice:
    name: str  # local name of the individual, e.g. "OnPremises"
    label: str
    help: str


@dataclass(frozen=True)
class Question:
    property: Property
    section: str  # one of SECTIONS
    text: str
    help: str  # the plain-language help of kb/questions.ttl ("" when there is none)
    choices: tuple[Choice, ...] = ()
    more: bool = False  # asked only when the person wants more than the first questions

    @property
    def name(self) -> str:
        return self.property.name

    @property
    def multiple(self) -> bool:
        return not self.property.single

    def expects(self) -> str:
        """What an answer must be, in words."""
        prop = self.property
        if self.choices:
            names = ", ".join(c.name for c in self.choices)
            return f"{'one or more of' if self.multiple else 'one of'} {names}"
        if prop.kind == "boolean":
            return "yes or no"
        if prop.numeric:
            return prop.describe_allowed()
        return "a text"


@dataclass
class Subject:
    """The organization or one workload, and its answers (None: don't know)."""

    name: str
    answers: dict[str, Answer | None] = field(default_factory=dict)


def load_questions(kb: KnowledgeBase) -> tuple[Question, ...]:
    """Every question, in the order it is asked: organization, workload, cost."""
    wording = _wording(kb.directory)
    questions = []
    for prop in kb.vocabulary.properties.values():
        if prop.computed or prop.iri == IP.name:
            continue
        section = str(wording.value(prop.iri, Q.section) or "")
        if section not in SECTIONS:
            section = "organization" if prop.domain == "Organization" else "workload"
        order = wording.value(prop.iri, Q.order)
        text = str(wording.value(prop.iri, Q.question) or "") or f"{prop.label[:1].upper()}{prop.label[1:]}?"
        choices = tuple(
            Choice(value, kb.vocabulary.individuals.get(value, value), _comment(kb.graph, IP[value]))
            for value in prop.values
        )
        rank = (SECTIONS.index(section), int(order) if order is not None else 10**9, prop.name)
        help_text = str(wording.value(prop.iri, Q.help) or "")
        more = str(wording.value(prop.iri, Q.depth) or "") == "more"
        questions.append((rank, Question(prop, section, text, help_text, choices, more)))
    return tuple(q for _, q in sorted(questions, key=lambda item: item[0]))


def _wording(directory: Path) -> Graph:
    return load_kb_graph(directory, (QUESTIONS_FILE,)) if (directory / QUESTIONS_FILE).is_file() else Graph()


def _comment(graph: Graph, iri) -> str:
    value = graph.value(iri, RDFS.comment)
    return " ".join(str(value).split()) if value is not None else ""


# ---------------------------------------------------------------------------
# answers


def _folded(text: str) -> str:
    return re.sub(r"[\s\-_]+", "", text).casefold()


def is_dont_know(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip().casefold() in DONT_KNOW_WORDS)


def parse_answer(question: Question, raw: object) -> Answer | None:
    """An answer in the form the facts need, None for "don't know"; ValueError saying what is expected."""
    if is_dont_know(raw):
        return None
    prop = question.property
    if question.choices:
        items = raw if isinstance(raw, list) else [p for p in str(raw).split(",") if p.strip()]
        if not question.multiple and len(items) != 1:
            raise ValueError(f"give one answer: {question.expects()}")
        chosen = []
        for item in items:
            choice = _choice(question, item)
            if choice not in chosen:
                chosen.append(choice)
        return tuple(chosen) if question.multiple else chosen[0]
    if prop.kind == "boolean":
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().casefold()
        if word in _YES or word in _NO:
            return word in _YES
        raise ValueError("answer yes or no")
    if prop.numeric:
        return _number(prop, raw)
    if isinstance(raw, (dict, list)):
        raise ValueError("answer with a text")
    return str(raw).strip()


def _choice(question: Question, raw: object) -> str:
    text = str(raw).strip()
    if text.isdigit() and 1 <= int(text) <= len(question.choices):
        return question.choices[int(text) - 1].name
    wanted = _folded(text)
    for choice in question.choices:
        if wanted in (_folded(choice.name), _folded(choice.label)):
            return choice.name
    close = difflib.get_close_matches(wanted, [_folded(c.name) for c in question.choices], n=1, cutoff=0.6)
    hint = next((f" (did you mean {c.name}?)" for c in question.choices if close and _folded(c.name) == close[0]), "")
    raise ValueError(f"{text!r} is not a choice{hint}; answer {question.expects()} (or its number)")


def _number(prop: Property, raw: object) -> int | float:
    if isinstance(raw, (bool, dict, list)):
        raise ValueError(f"answer with {prop.describe_allowed()}")
    text = str(raw).strip().replace(",", "").replace("_", "").removeprefix("$").strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{str(raw).strip()!r} is not a number; answer with {prop.describe_allowed()}") from None
    if not number.is_finite():
        raise ValueError(f"answer with {prop.describe_allowed()}")
    if prop.kind == "integer" and number != number.to_integral_value():
        raise ValueError(f"answer with {prop.describe_allowed()} (a whole number)")
    if prop.minimum is not None and (
        number < Decimal(str(prop.minimum)) or (prop.minimum_exclusive and number == Decimal(str(prop.minimum)))
    ):
        raise ValueError(f"{text} is too small; answer with {prop.describe_allowed()}")
    return int(number) if number == number.to_integral_value() else float(number)


# ---------------------------------------------------------------------------
# the facts file


def slug(text: str, fallback: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or fallback


def _unique_slugs(names: list[str], taken: set[str]) -> list[str]:
    result = []
    for index, name in enumerate(names, 1):
        base = slug(name, f"workload-{index}")
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}-{n}", n + 1
        taken.add(candidate)
        result.append(candidate)
    return result


def _term(value: Answer) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return Literal(value).n3()


def _objects(question: Question, value: Answer) -> str:
    if question.choices:
        names = value if isinstance(value, tuple) else (value,)
        return ", ".join(f"ip:{name}" for name in names)
    return _term(value)


def _comment_lines(text: str, indent: str, width: int = 96) -> list[str]:
    import textwrap

    return [f"{indent}# {line}" for line in textwrap.wrap(" ".join(text.split()), width - len(indent) - 2)]


def _block(subject: str, kind: str, name: str, entries: list[tuple[Question, Answer]], extra: list[str]) -> list[str]:
    statements: list[tuple[list[str], str]] = [([], f"a ip:{kind}"), ([], f"ip:name {Literal(name).n3()}")]
    for question, value in entries:
        statements.append((_comment_lines(question.text, "    "), f"ip:{question.name} {_objects(question, value)}"))
    statements.extend(([], line) for line in extra)
    lines = [f"ex:{subject}"]
    for index, (comments, statement) in enumerate(statements):
        lines.extend(comments)
        lines.append(f"    {statement} {'.' if index == len(statements) - 1 else ';'}")
    return lines


def _unknown_note(questions: tuple[Question, ...], subject: Subject, sections: tuple[str, ...]) -> list[str]:
    asked = [q for q in questions if q.section in sections and q.name in subject.answers]
    unknown = [q for q in asked if subject.answers[q.name] is None]
    if not unknown:
        return []
    names = ", ".join(f"ip:{q.name}" for q in unknown)
    return _comment_lines(f'Answered "don\'t know", so left out: {names}.', "")


def render_facts(questions: tuple[Question, ...], organization: Subject, workloads: list[Subject]) -> str:
    """The answers as a commented Turtle facts file (deterministic: same answers, same text)."""
    org_slug = slug(organization.name, "organization")
    by_name = {q.name: q for q in questions}
    lines = [
        f"# Facts about {organization.name}, written by `infra-policy init`.",
        "#",
        "# Check them with `infra-policy validate FILE` and decide with `infra-policy evaluate FILE`.",
        '# A question answered "don\'t know" is left out: a fact not given fires no rule, and the',
        "# result lists the missing facts that could change the stance. Add them here when you know.",
        "# Organization facts apply to every workload unless the workload states its own.",
        "# `infra-policy init --template` writes a file listing every property with its meaning.",
        "",
        "@prefix ip: <https://w3id.org/infra-policy#> .",
        f"@prefix ex: <https://example.org/{org_slug}/> .",
        "",
    ]

    def entries(subject: Subject) -> list[tuple[Question, Answer]]:
        return [(by_name[n], v) for n, v in subject.answers.items() if v is not None and n in by_name]

    workload_slugs = _unique_slugs([w.name for w in workloads], {"organization"})
    links = [f"ip:hasWorkload {', '.join(f'ex:{s}' for s in workload_slugs)}"] if workloads else []
    lines.extend(_unknown_note(questions, organization, SECTIONS))
    lines.extend(_block("organization", "Organization", organization.name, entries(organization), links))
    for workload, workload_slug in zip(workloads, workload_slugs, strict=True):
        lines.append("")
        lines.extend(_unknown_note(questions, workload, SECTIONS))
        lines.extend(_block(workload_slug, "Workload", workload.name, entries(workload), []))
    return "\n".join(lines) + "\n"


def render_template(questions: tuple[Question, ...]) -> str:
    """A facts file with every property, commented out, each with its question and allowed values.

    Valid as it is (an organization with one workload and no facts); uncomment a line to state a fact.
    """
    lines = [
        "# A facts file for infra-policy, written by `infra-policy init --template`.",
        "#",
        "# Every property infra-policy knows is listed below, commented out, with its question,",
        "# its meaning and its allowed values. Remove the leading '#' of a line to state that fact and",
        "# replace the example value; leave a line commented when you do not know the answer (a fact",
        "# not given fires no rule, and the result lists the missing facts that could change it).",
        "# Organization facts apply to every workload unless a workload states its own; any workload",
        "# property may also be stated on the organization as a default. Copy the workload block for",
        "# each further workload and add it to ip:hasWorkload.",
        "# Then: `infra-policy validate FILE`, `infra-policy evaluate FILE`.",
        "",
        "@prefix ip: <https://w3id.org/infra-policy#> .",
        "@prefix ex: <https://example.org/my-organization/> .",
        "",
    ]

    def section(subject: str, kind: str, name: str, sections: tuple[str, ...], extra: list[str]) -> None:
        lines.append(f"ex:{subject} a ip:{kind} ;")
        for question in questions:
            if question.section not in sections:
                continue
            lines.append("")
            lines.extend(_comment_lines(question.text, "    "))
            lines.extend(_comment_lines(question.property.comment, "    "))
            if question.help:
                lines.extend(_comment_lines(f"If unsure: {question.help}", "    "))
            if question.choices:
                for choice in question.choices:
                    lines.extend(_comment_lines(f"  ip:{choice.name} — {choice.label}: {choice.help}", "    "))
            lines.append(f"    # ip:{question.name} {_example(question)} ;")
        lines.append("")
        lines.extend(f"    {line} ;" for line in extra)
        lines.append(f"    ip:name {Literal(name).n3()} .")
        lines.append("")

    lines.append("# --- the organization " + "-" * 70)
    section("organization", "Organization", "My organization", ("organization",), ["ip:hasWorkload ex:workload-1"])
    lines.append("# --- a workload (one LLM use case) " + "-" * 57)
    lines.extend(_comment_lines("The cost figures at the end are optional (see the README, Cost model).", ""))
    section("workload-1", "Workload", "My first workload", ("workload", "cost"), [])
    return "\n".join(lines)


def _example(question: Question) -> str:
    prop = question.property
    if question.choices:
        return f"ip:{question.choices[0].name}"
    if prop.kind == "boolean":
        return "true"
    if prop.numeric:
        return "1" if prop.minimum_exclusive or prop.kind == "integer" else "0"
    return '"…"'


# ---------------------------------------------------------------------------
# answers files


def answers_from_yaml(path: Path, questions: tuple[Question, ...]) -> tuple[Subject, list[Subject]]:
    """The organization and workloads of an answers file (YAML); AnswersError listing every problem.

    The file is a mapping with ``organization`` (a mapping of property local names to answers, with
    ``name``) and ``workloads`` (a list of such mappings). ``null``, ``"don't know"`` or a missing key
    leave the fact out.
    """
    import yaml

    text = read_text_input(
        path, MAX_ANSWERS_BYTES, what="answers file", example="answers.yaml", text_kind="YAML text", error=AnswersError
    )
    try:
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise AnswersError(
                f"{path}: uses YAML anchors and aliases (&name / *name), which answers files may not; "
                "write each answer out in full."
            )
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        why = str(getattr(exc, "problem", None) or exc).strip().rstrip(".")
        raise AnswersError(f"{path}{where}: not valid YAML — {why}.") from exc
    problems: list[str] = []
    by_name = {q.name.casefold(): q for q in questions}

    def at(node) -> str:
        return f"{path}, line {node.start_mark.line + 1}"

    def subject(node, where: str, fallback_name: str) -> Subject:
        result = Subject(fallback_name)
        if not isinstance(node, yaml.MappingNode):
            problems.append(f"{at(node)}: {where} must be a mapping of questions to answers (property: answer).")
            return result
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if isinstance(value_node, yaml.MappingNode):
                problems.append(f"{at(value_node)}: {where}.{key}: give an answer, not a mapping.")
                continue
            value = _plain(value_node)
            if key.casefold() == "name":
                if is_dont_know(value) or not isinstance(value, str):
                    problems.append(f"{at(value_node)}: {where}.name must be a text, the display name.")
                else:
                    result.name = value.strip()
                continue
            question = by_name.get(key.casefold())
            if question is None:
                close = difflib.get_close_matches(key.casefold(), list(by_name), n=1, cutoff=0.6)
                hint = f" Did you mean {by_name[close[0]].name}?" if close else ""
                problems.append(
                    f"{at(key_node)}: {where}: {key!r} is not a question of infra-policy.{hint} The questions are the "
                    "facts properties (see `infra-policy init --template`)."
                )
                continue
            try:
                result.answers[question.name] = parse_answer(question, value)
            except ValueError as exc:
                problems.append(f"{at(value_node)}: {where}.{question.name}: {exc} — or leave the answer out.")
        return result

    if not isinstance(root, yaml.MappingNode):
        raise AnswersError(
            f"{path}: an answers file is a mapping with 'organization' (and optionally 'workloads'); "
            "see `infra-policy init --help`."
        )
    parts = {str(k.value): v for k, v in root.value}
    for key, key_node in ((str(k.value), k) for k, _ in root.value):
        if key not in ("organization", "workloads"):
            problems.append(
                f"{at(key_node)}: {key!r} is not a section; an answers file has 'organization' and 'workloads'."
            )
    if "organization" not in parts:
        problems.append(f"{path}: no 'organization' section; it holds at least the organization's name.")
        organization = Subject("My organization")
    else:
        organization = subject(parts["organization"], "organization", "My organization")
    workloads = []
    listed = parts.get("workloads")
    if listed is not None and not (isinstance(listed, yaml.ScalarNode) and listed.value in ("", "null", "~")):
        if not isinstance(listed, yaml.SequenceNode):
            problems.append(f"{at(listed)}: workloads must be a list of mappings, one per workload.")
        else:
            for index, item in enumerate(listed.value, 1):
                workloads.append(subject(item, f"workloads[{index}]", f"Workload {index}"))
    if problems:
        raise AnswersError.listing(path, problems)
    return organization, workloads


def _plain(node) -> object:
    """A YAML node as plain data, its scalars resolved the YAML way (true/false booleans, numbers)."""
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return [_plain(item) for item in node.value]
    return yaml.safe_load(yaml.serialize(node))


__all__ = [
    "AnswersError",
    "Choice",
    "Question",
    "Subject",
    "answers_from_yaml",
    "load_questions",
    "parse_answer",
    "render_facts",
    "render_template",
]
