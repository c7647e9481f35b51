"""The results the engine produces: firings, assessments, decisions.

Plain, frozen data: the exporters, the justification graph and the site read
these and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from .cost import CostAnalysis
from .profile import OrganizationProfile, StatedFact, WorkloadProfile
from .rules_ast import Value
from .tally import Tally


@dataclass(frozen=True)
class Firing:
    """One rule that fired for one subject, with what it matched."""

    rule: str
    subject: str  # workload id (or organization id for organization rules)
    stage: str
    facts: tuple[StatedFact, ...] = ()  # stated facts the condition used
    derived: tuple[str, ...] = ()  # intermediate conclusions the condition used
    computed: tuple[tuple[str, Value], ...] = ()  # computed (cost, tally, organization) facts it matched


@dataclass(frozen=True)
class Assessment:
    rule: str
    factor: str
    favors: str
    weight: int
    claims: tuple[str, ...]
    firing: Firing


@dataclass(frozen=True)
class Constraint:
    rule: str
    requires: str
    claims: tuple[str, ...]
    firing: Firing


@dataclass(frozen=True)
class Derivation:
    rule: str
    name: str
    firing: Firing


@dataclass(frozen=True)
class MissingFact:
    """A fact not given whose value could change the workload's stance."""

    property: str
    label: str
    outcomes: tuple[tuple[str, Value], ...]  # (stance it could lead to, an example value)
    rules: tuple[str, ...]  # rules whose firing its example values change (cost inputs: the cost rules)
    needed_for: str = ""  # set for an input the cost model needs (outcomes are then not explored)


@dataclass(frozen=True)
class WorkloadDecision:
    profile: WorkloadProfile
    firings: tuple[Firing, ...]
    assessments: tuple[Assessment, ...]
    constraints: tuple[Constraint, ...]
    derivations: tuple[Derivation, ...]
    tally: Tally
    stance: str
    stance_firing: Firing
    missing: tuple[MissingFact, ...]
    cost: CostAnalysis | None = None

    @property
    def id(self) -> str:
        return self.profile.id

    def values(self) -> dict[str, Value]:
        """The facts the factor rules saw: the stated ones and those the cost model computed."""
        computed = self.cost.facts() if self.cost is not None else {}
        return {**self.profile.values(), **computed}

    def grounds(self, firing: Firing) -> tuple[StatedFact, ...]:
        """The stated facts behind a firing, through any intermediate conclusions."""
        producers = {d.name: d.firing for d in self.derivations}
        found: dict[str, StatedFact] = {}
        pending = [firing]
        while pending:
            current = pending.pop()
            for fact in current.facts:
                found.setdefault(fact.property, fact)
            if self.cost is not None:
                for name, _ in current.computed:
                    for stated in self.cost.stated_inputs(name):
                        found.setdefault(stated, self.profile.facts[stated])
            pending.extend(producers[name] for name in current.derived if name in producers)
        return tuple(found[name] for name in sorted(found))

    def decisive(self) -> tuple[Assessment, ...]:
        """The assessments that carried the stance, strongest first."""
        if self.stance in ("cloud", "in-house"):
            chosen = [a for a in self.assessments if a.favors == self.stance]
        else:
            chosen = list(self.assessments)
        return tuple(sorted(chosen, key=lambda a: (-a.weight, a.rule)))


@dataclass(frozen=True)
class Inputs:
    facts: str
    kb: str
    rules: str


@dataclass(frozen=True)
class Decision:
    organization: OrganizationProfile
    workloads: tuple[WorkloadDecision, ...]
    stance: str
    stance_firing: Firing
    inputs: Inputs

    @property
    def placement(self) -> tuple[tuple[str, str], ...]:
        return tuple((w.id, w.stance) for w in self.workloads)
