"""infra-policy as a library: decide where to run LLMs — cloud, in-house or hybrid — and prove why.

The whole public surface is here::

    import infra_policy

    decision = infra_policy.evaluate("facts.ttl")          # a path, a string of Turtle, or an rdflib Graph
    decision.stance                                          # the organization's stance, e.g. "hybrid"
    decision.placement                                       # {workload name: stance}
    decision.to_dict()                                       # the `evaluate --format json` document (decision@1)
    decision.to_json(), decision.to_text()                   # exactly what `evaluate` prints
    decision.record()                                        # the sealed decision record (`evaluate --record`)
    decision.warnings                                        # namespace near-misses found in the facts

Bad input raises :class:`InputError` (a :class:`FactsError` for facts) whose message is the one the
command line prints. The command line is built on these functions. How the pieces fit is described in
docs/design.md of the source repository.

This module imports nothing heavy until it is used, so `infra-policy --help` stays instant.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra_policy.engine.errors import (
    EngineError,
    FactsError,
    InfraPolicyError,
    InputError,
    KnowledgeBaseError,
    RulesError,
)
from infra_policy.engine.stages.inputs import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from rdflib import Graph

    from infra_policy.engine.analysis.abduce import Contrast, SufficientReason
    from infra_policy.engine.knowledge import KnowledgeBase
    from infra_policy.engine.pipeline import Evaluation, Evaluator
    from infra_policy.engine.stages.load import Assumption, FactsDocument

__all__ = [
    "DEFAULT_LIMITS",
    "Decision",
    "EngineError",
    "FactsError",
    "InfraPolicyError",
    "InputError",
    "KnowledgeBaseError",
    "Limits",
    "RulesError",
    "StrictnessError",
    "Validation",
    "evaluate",
    "evaluator",
    "knowledge_base",
    "validate",
    "version",
    "what_if",
]


class StrictnessError(FactsError):
    """Raised with ``strict=True`` when the facts have near-misses (the warnings, as errors)."""


@dataclass(frozen=True)
class Decision:
    """The decision on one facts file: the stance per workload and for the organization, explained."""

    evaluation: Evaluation
    evaluator: Evaluator = field(repr=False)
    warnings: tuple[str, ...] = ()

    @property
    def stance(self) -> str:
        """The organization's stance."""
        return self.evaluation.decision.stance

    @property
    def organization(self) -> str:
        """The organization's display name."""
        return self.evaluation.decision.organization.name

    @property
    def placement(self) -> dict[str, str]:
        """Each workload's name and its stance, in file order."""
        return {w.profile.name: w.stance for w in self.evaluation.decision.workloads}

    def to_dict(self) -> dict[str, Any]:
        """The decision as the JSON document `infra-policy evaluate --format json` prints (decision@1)."""
        from infra_policy.engine.outputs.export import decision_dict

        return decision_dict(self.evaluation, self.evaluator.policy)

    def to_json(self) -> str:
        """The exact text of `infra-policy evaluate --format json` (deterministic: same inputs, same bytes)."""
        from infra_policy.engine.outputs.export import render_json

        return render_json(self.evaluation, self.evaluator.policy)

    def write_json(self, write: Callable[[str], object]) -> None:
        """Stream exactly the text of :meth:`to_json` through ``write`` (e.g. a file's ``write``), piece by piece,
        so a decision on thousands of workloads is never one string in memory."""
        from infra_policy.engine.outputs.export import write_decision_json

        write_decision_json(self.evaluation, self.evaluator.policy, write)

    def to_text(self, detail: str = "short", *, verbose: bool = False) -> str:
        """The exact text of `infra-policy evaluate` for people (``detail="full"``: nothing left out;
        ``verbose=True``: the rules' ids too, as `evaluate --verbose`)."""
        from infra_policy.engine.outputs.export import render_text

        if detail not in ("short", "full"):
            raise ValueError(f"to_text: detail must be 'short' or 'full', not {detail!r}")
        per_side = None if detail == "full" else 5
        return render_text(self.evaluation, self.evaluator.kb, self.evaluator.policy, per_side, verbose=verbose)

    def to_rdf(self, fmt: str = "turtle") -> str:
        """The derivation in W3C PROV-O: ``fmt`` is "turtle" or "jsonld" (as `evaluate --format`)."""
        from infra_policy.engine.outputs import prov

        if fmt not in ("turtle", "jsonld"):
            raise ValueError(f"to_rdf: fmt must be 'turtle' or 'jsonld', not {fmt!r}")
        render = prov.to_turtle if fmt == "turtle" else prov.to_jsonld
        return render(self.evaluation, version())

    def record(self) -> dict[str, Any]:
        """The sealed decision record (record@1) `evaluate --record DIR` writes, its id included."""
        from infra_policy.engine.records.record import record_body, seal

        return seal(record_body(self.evaluation, self.evaluator.policy))

    @property
    def assumed(self) -> tuple[Assumption, ...]:
        """The facts assumed in place of what the facts state (``evaluate(..., assume=...)``); empty if none."""
        return self.evaluation.document.assumptions

    def sufficient_reasons(self, *, every: bool = False, limit: int = 8) -> list[list[SufficientReason]]:
        """Per workload (file order), minimal sets of its stated facts that alone keep its stance.

        One per workload (`explain --sufficient`), or with ``every=True`` all of them, at most ``limit``
        per workload (`explain --sufficient --all`; ``SufficientReason.complete`` is False on the last one
        when the bound stopped the search). Each has ``facts``, ``values``, ``irrelevant`` (the stated
        facts that do not matter), ``exhaustive`` and ``witnesses``.
        """
        from infra_policy.engine.analysis.abduce import sufficient_reason, sufficient_reasons

        ev = self.evaluator
        vocabulary = ev.kb.vocabulary
        if not every:
            return [[sufficient_reason(w, ev.policy, ev.explorer, vocabulary)] for w in self._workloads()]
        return [list(sufficient_reasons(w, ev.policy, ev.explorer, vocabulary, limit)) for w in self._workloads()]

    def contrast(self, stance: str, *, max_changes: int = 3) -> list[Contrast]:
        """Per workload (file order), the smallest sets of fact changes that would give ``stance``, fewest
        first (`explain --contrast STANCE`): ``Contrast.changes`` holds each set as ``FactStep``s
        (``fact``, ``before``, ``after``; None: not stated / left out); ``complete`` is False when the
        search stopped at its evaluation budget."""
        from infra_policy.engine.analysis.abduce import contrast
        from infra_policy.engine.policy.tally import STANCES

        if stance not in STANCES:
            raise ValueError(f"contrast: stance must be one of {', '.join(STANCES)}, not {stance!r}")
        from infra_policy.engine.analysis import MAX_CHANGES

        if not 1 <= max_changes <= MAX_CHANGES:
            raise ValueError(f"contrast: max_changes must be between 1 and {MAX_CHANGES}, not {max_changes!r}")
        ev = self.evaluator
        return [contrast(w, ev.policy, ev.explorer, ev.kb.vocabulary, stance, max_changes) for w in self._workloads()]

    def explain_text(
        self,
        *,
        sufficient: bool = False,
        every: bool = False,
        contrast: str | None = None,
        max_changes: int = 3,
        limit: int = 8,
    ) -> str:
        """What `explain --sufficient [--all]` and/or `explain --contrast STANCE` print, byte for byte."""
        from infra_policy.engine.analysis.abduce import render_all_sufficient, render_contrast, render_sufficient
        from infra_policy.engine.errors import printable

        vocabulary = self.evaluator.kb.vocabulary
        texts = []
        if sufficient and every:
            groups = [tuple(rs) for rs in self.sufficient_reasons(every=True, limit=limit)]
            texts.append(render_all_sufficient(groups, vocabulary, limit))
        elif sufficient:
            texts.append(render_sufficient([rs[0] for rs in self.sufficient_reasons()], vocabulary))
        if contrast is not None:
            found = self.contrast(contrast, max_changes=max_changes)
            texts.append(render_contrast(found, vocabulary, None if every else 5))
        return self.assumed_text() + printable("\n".join(texts))

    def explain_dict(
        self,
        *,
        sufficient: bool = False,
        every: bool = False,
        contrast: str | None = None,
        max_changes: int = 3,
        limit: int = 8,
    ) -> dict[str, Any]:
        """What `explain --sufficient [--all]` and/or `explain --contrast STANCE` print with --format json."""
        from infra_policy.engine.analysis.abduce import contrast_dict, sufficient_all_dict, sufficient_dict

        vocabulary = self.evaluator.kb.vocabulary
        data: dict[str, Any] = {}
        if self.assumed:
            data["assumed"] = [a.to_dict() for a in self.assumed]
        if sufficient:
            found = self.sufficient_reasons(every=every, limit=limit)
            if every:
                data["sufficient_reasons"] = [sufficient_all_dict(tuple(rs), vocabulary) for rs in found]
            else:
                data["sufficient_reasons"] = [sufficient_dict(rs[0], vocabulary) for rs in found]
        if contrast is not None:
            data["contrasts"] = [contrast_dict(c, vocabulary) for c in self.contrast(contrast, max_changes=max_changes)]
        return data

    def assumed_text(self) -> str:
        """The facts assumed, as the text outputs begin with them ("" when every fact was stated)."""
        if not self.assumed:
            return ""
        from infra_policy.engine.analysis.whatif import assumed_lines
        from infra_policy.engine.errors import printable

        lines = [f"  • {line}" for line in assumed_lines(self.assumed, self.evaluator.kb.vocabulary)]
        return printable("Assumed (not stated in the facts):\n" + "\n".join(lines) + "\n\n")

    def _workloads(self) -> tuple:
        return self.evaluation.decision.workloads


def version() -> str:
    """The installed version of infra-policy (as `infra-policy --version` says it)."""
    from importlib import metadata

    try:
        return metadata.version("infra-policy")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


# Loaded once per content of the kb/rules folders, and only the most recently used few are
# kept: each evaluator holds a compiled durable-rules host, released only when the evaluator
# is collected, so a process that tries many rule folders (a fuzz run, a policy author's
# loop) must let the old ones go.
_CACHED = 8
# the most of one kb, rules or overlay file read to tell its content apart; a larger one (or one that
# is not a regular file) is told apart by its size and modification time
_SIGNED_BYTES = 20_000_000
_KNOWLEDGE: OrderedDict[tuple, KnowledgeBase] = OrderedDict()
_EVALUATORS: OrderedDict[tuple, Evaluator] = OrderedDict()


def _remember(cache: OrderedDict, key: tuple, load):
    if key in cache:
        cache.move_to_end(key)
    else:
        cache[key] = load()
        while len(cache) > _CACHED:
            cache.popitem(last=False)
    return cache[key]


def _signature(directory: str | Path | None) -> tuple:
    """What identifies a kb/rules folder's content: its path and the digest of each file (cheap: ~100 kB).

    Reads are bounded: a file too large or not regular is identified by its kind, size and time, and
    refused by the loader that reads it."""
    from infra_policy.engine.files import absolute, content_signature

    if directory is None:
        return ()
    directory = absolute(Path(directory))
    if not directory.is_dir():
        return (str(directory),)
    return (str(directory), *(content_signature(p, _SIGNED_BYTES) for p in sorted(directory.iterdir())))


def knowledge_base(kb: str | Path | None = None) -> KnowledgeBase:
    """The knowledge base (the packaged one by default), loaded once per content of its files."""
    from infra_policy.engine.knowledge import load_knowledge_base

    return _remember(_KNOWLEDGE, _signature(kb), lambda: load_knowledge_base(Path(kb) if kb is not None else None))


def _file_signature(path: str | Path) -> tuple:
    """What identifies an overlay file's content: its path and the digest of its bytes (read bounded)."""
    from infra_policy.engine.files import absolute, content_signature

    path = absolute(Path(path))
    return (str(path), *content_signature(path, _SIGNED_BYTES))


def evaluator(
    *, rules: str | Path | None = None, kb: str | Path | None = None, overlays: Sequence[str | Path] = ()
) -> Evaluator:
    """The knowledge base and compiled rules (packaged ones by default), loaded once per content of their files.

    ``overlays`` are policy overlay files (YAML, docs/overlays.md of the source repository) applied in
    order to the rules."""
    from infra_policy.engine.pipeline import Evaluator
    from infra_policy.engine.policy.ruleload import load_policy

    def load() -> Evaluator:
        knowledge = knowledge_base(kb)
        policy = load_policy(knowledge, Path(rules) if rules is not None else None, [Path(o) for o in overlays])
        return Evaluator(knowledge, policy)

    key = (_signature(kb), _signature(rules), *(_file_signature(o) for o in overlays))
    return _remember(_EVALUATORS, key, load)


def _document(facts: str | Path | Graph | FactsDocument, input_format: str | None, limits: Limits) -> FactsDocument:
    from infra_policy.engine.stages.load import FactsDocument, load_facts_from

    if isinstance(facts, FactsDocument):
        return facts
    return load_facts_from(facts, input_format, limits)


def validate(
    facts: str | Path | Graph | FactsDocument,
    *,
    kb: str | Path | None = None,
    input_format: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    strict: bool = False,
) -> Validation:
    """Check facts against the vocabulary and shapes without evaluating them.

    Returns what was checked and the warnings (namespace near-misses). Raises :class:`FactsError` listing
    every problem (the warnings appended); with ``strict=True`` warnings are errors too.
    """
    from infra_policy.engine.stages.profile import build_profile
    from infra_policy.engine.stages.validate import validate_facts

    knowledge = knowledge_base(kb)
    document = _document(facts, input_format, limits)
    warnings = _checked(document, knowledge, strict)
    with _warnings_on_error(warnings):
        validate_facts(document, knowledge)
        profile = build_profile(document, knowledge.vocabulary)
    return Validation(
        source=str(document.path),
        organization=profile.name,
        workloads=tuple(w.name for w in profile.workloads),
        implicit_workload=profile.workloads[0].implicit,
        triples=len(document.graph),
        warnings=warnings,
    )


@dataclass(frozen=True)
class Validation:
    """What `validate` found in valid facts."""

    source: str
    organization: str
    workloads: tuple[str, ...]
    implicit_workload: bool  # the organization has no workloads and is evaluated as one
    triples: int
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The document `infra-policy validate --format json` prints."""
        return {
            "valid": True,
            "source": self.source,
            "organization": self.organization,
            "workloads": list(self.workloads),
            "implicit_workload": self.implicit_workload,
            "triples": self.triples,
            "warnings": list(self.warnings),
        }


def _checked(document: FactsDocument, knowledge: KnowledgeBase, strict: bool) -> tuple[str, ...]:
    """The near-misses of the facts; with ``strict``, a :class:`StrictnessError` if there is any."""
    from infra_policy.engine.stages.nearmiss import near_misses

    warnings = near_misses(document, knowledge.vocabulary)
    if strict and warnings:
        raise StrictnessError.listing(document.path, [f"{w} (an error because of --strict)" for w in warnings])
    return warnings


@contextmanager
def _warnings_on_error(warnings: tuple[str, ...]) -> Iterator[None]:
    """A facts error raised inside also lists the near-misses, which often explain it."""
    try:
        yield
    except FactsError as exc:
        if not warnings:
            raise
        notes = "\n".join(f"  - warning: {w}" for w in warnings)
        plural = "s" if len(warnings) != 1 else ""
        message = f"{exc}\nand {len(warnings)} warning{plural} that may explain it:\n{notes}"
        raise type(exc)(message, (*exc.problems, *warnings)) from exc


@dataclass(frozen=True)
class WhatIf:
    """The decision on the facts as stated, and again with some facts assumed."""

    before: Decision
    after: Decision
    changes: tuple[Assumption, ...]  # the assumed facts

    def stance_changes(self) -> tuple:
        from infra_policy.engine.analysis.whatif import stance_changes

        return stance_changes(self.before.evaluation.decision, self.after.evaluation.decision)

    def to_dict(self) -> dict[str, Any]:
        return {
            "assumed": [c.to_dict() for c in self.changes],
            "stances": [
                {"subject": m.subject, "name": m.name, "before": m.before, "after": m.after}
                for m in self.stance_changes()
            ],
            "after": self.after.to_dict(),
        }

    def to_text(self) -> str:
        from infra_policy.engine.analysis.whatif import render_what_if
        from infra_policy.engine.errors import printable

        vocabulary = self.after.evaluator.kb.vocabulary
        return printable(render_what_if(self.changes, self.stance_changes(), vocabulary))


def what_if(
    facts: str | Path | Graph | FactsDocument,
    changes: list[str] | tuple[str, ...],
    *,
    rules: str | Path | None = None,
    kb: str | Path | None = None,
    input_format: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    overlays: Sequence[str | Path] = (),
) -> WhatIf:
    """Decide ``facts`` as stated and again with ``changes`` ("property=value" for the organization,
    "WORKLOAD.property=value" for one workload) assumed in place of what they state."""
    document = _document(facts, input_format, limits)
    before = evaluate(document, rules=rules, kb=kb, overlays=overlays)
    after = evaluate(document, rules=rules, kb=kb, assume=changes, overlays=overlays)
    return WhatIf(before, after, after.assumed)


def evaluate(
    facts: str | Path | Graph | FactsDocument,
    *,
    rules: str | Path | None = None,
    kb: str | Path | None = None,
    input_format: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    strict: bool = False,
    explore_changes: bool | None = None,
    assume: Sequence[str] = (),
    overlays: Sequence[str | Path] = (),
) -> Decision:
    """Evaluate facts and return the :class:`Decision`.

    ``facts`` is a path (``str`` or :class:`~pathlib.Path`), a string of RDF text (anything with a line
    break, or starting with ``@prefix``/``PREFIX``/``<``; Turtle unless ``input_format`` names another
    format), or an ``rdflib.Graph``. ``rules`` and ``kb`` are folders that replace the packaged rule sets
    and knowledge base; ``overlays`` are policy overlay files applied to the rules in order.
    ``strict=True`` turns the near-miss warnings into an error. ``assume`` lists facts
    to assume in place of what the facts state (`evaluate --set`): "property=value" for the organization,
    "WORKLOAD.property=value" for one workload; the decision, its JSON, text and record mark them as
    assumed, and its facts digest stays that of the facts as stated.

    ``explore_changes`` says whether to search, for each workload, the missing facts and questions that
    could change its stance: True always, False never (but for an undetermined stance, whose questions
    are its answer), None (the default) only for organizations of up to 100 workloads, where it is cheap.
    When it is skipped the decision says so (``"left_out"`` in :meth:`Decision.to_dict`).
    """
    engine = evaluator(rules=rules, kb=kb, overlays=overlays)
    document = _document(facts, input_format, limits)
    warnings = _checked(document, engine.kb, strict)
    if assume:
        from infra_policy.engine.analysis.whatif import changed_document, parse_changes

        vocabulary = engine.kb.vocabulary
        document = changed_document(document, parse_changes(document, assume, vocabulary), vocabulary)
    with _warnings_on_error(warnings):
        evaluation = engine.evaluate_document(document, explore_changes=explore_changes)
    return Decision(evaluation, engine, warnings)
