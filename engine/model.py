"""The results the engine produces: firings, assessments, decisions.

Plain, frozen data: the exporters, the justification graph and the site read
these and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra_policy.engine.policy.rules_ast import Value, other_side
from infra_policy.engine.policy.tally import Tally
from infra_policy.engine.stages.cost import CostAnalysis
from infra_policy.engine.stages.profile import OrganizationProfile, StatedFact, WorkloadProfile


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
    """Feasibility: a rule that rules a side out for a workload."""

    rule: str
    rules_out: str
    claims: tuple[str, ...]
    firing: Firing

    @property
    def requires(self) -> str:
        """The side left (version 1 called a constraint a requirement of that side)."""
        return other_side(self.rules_out)


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
class HybridPlan:
    """What runs where in a hybrid workload or organization, and what calls for it."""

    id: str
    title: str
    in_house: tuple[str, ...]
    cloud: tuple[str, ...]
    rule: str = ""  # the plan rule that named it ("" for the organization's split by workload)
    # the counted assessments that call for each side (rule ids)
    in_house_because: tuple[str, ...] = ()
    cloud_because: tuple[str, ...] = ()


@dataclass(frozen=True)
class Risk:
    """An argument for the side not chosen, to mitigate in the chosen one."""

    rule: str  # the assessment that made the argument
    side: str  # the side it argued for
    why: str  # "ruled-out" (that side is not feasible) | "outweighed"
    advice: str
    safeguards: tuple[str, ...] = ()  # cloud safeguards that answer it
    stated: tuple[str, ...] = ()  # of those, the ones the facts already state


@dataclass(frozen=True)
class UnweighedFact:
    """A stated fact (or one value of a multi-valued fact) that no counted rule used."""

    property: str
    value: Value
    reason: str


@dataclass(frozen=True)
class Closeness:
    """How far a stance is from another: the least weight that would move it there."""

    to: str  # the stance it would become
    side: str  # the side the extra weight would favor
    points: int  # 0 when weight cannot move it (feasibility decides)
    text: str


@dataclass(frozen=True)
class Question:
    """A fact not given that could move the stance, with how much it can weigh."""

    property: str
    label: str
    values: tuple[str, ...]  # the values it may take (empty for numbers)
    rules_out: tuple[str, ...]  # sides some value of it would rule out
    weight: tuple[tuple[str, int], ...]  # (side, the most weight a value of it adds to that side)
    text: str


@dataclass(frozen=True)
class FactStep:
    """One change of a fact: a value changed, a fact added (``before`` None) or left out (``after`` None)."""

    fact: str
    before: Value | None  # None: not stated
    after: Value | None  # None: left out


@dataclass(frozen=True)
class Contrast:
    """The smallest sets of fact changes found that give ``target`` (engine.stages.changes)."""

    workload: str
    name: str
    stance: str
    target: str
    changes: tuple[tuple[FactStep, ...], ...]  # each a minimal set of changes giving the target
    max_changes: int
    complete: bool  # False: the evaluation budget ran out before the search described by ``searched()`` was done
    evaluated: int
    # the most changes in a set the search got to: max_changes, or fewer when only the fewest were asked
    # for (evaluate) and a smaller set was found, or when the budget ran out
    depth: int = 1
    exhaustive: bool = False  # every combination of up to ``depth`` changes was tried

    def searched(self) -> str:
        """What the search tried, in words (the same sentence in text and JSON)."""
        if self.depth == 1:
            return "every single change"
        if self.exhaustive:
            return f"every combination of up to {self.depth} changes"
        return (
            f"every single change; combinations of up to {self.depth} changes that each move the weighing "
            f"toward {self.target} (the two that move it most per fact); and pairs of changes to facts that "
            "one rule reads together"
        )


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
    plan: HybridPlan | None = None
    risks: tuple[Risk, ...] = ()
    unweighed: tuple[UnweighedFact, ...] = ()
    closeness: tuple[Closeness, ...] = ()
    questions: tuple[Question, ...] = ()
    # False when the search for what would change the stance was skipped (missing lists cost inputs only)
    changes_explored: bool = True
    # the fewest fact changes that give each other stance (cloud, in-house, hybrid), when explored
    changes: tuple[Contrast, ...] = ()

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

    def counted(self, a: Assessment) -> bool:
        """Whether the assessment's weight counts (another one on the same claim may count instead)."""
        return self.tally.counted(a.rule)

    def decisive(self) -> tuple[Assessment, ...]:
        """The counted assessments that carried the stance, strongest first."""
        counted = [a for a in self.assessments if self.counted(a)]
        chosen = [a for a in counted if a.favors == self.stance] if self.stance in ("cloud", "in-house") else counted
        return tuple(sorted(chosen, key=lambda a: (-a.weight, a.rule)))

    def ruled_out(self) -> dict[str, tuple[Constraint, ...]]:
        """Side → the constraints that rule it out (sides still feasible are absent)."""
        found: dict[str, list[Constraint]] = {}
        for c in self.constraints:
            found.setdefault(c.rules_out, []).append(c)
        return {side: tuple(items) for side, items in sorted(found.items())}


@dataclass(frozen=True)
class Inputs:
    facts: str
    kb: str
    rules: str
    # the policy overlays applied to the rules, in order: {"name", "file", "digest"} each
    overlays: tuple[dict[str, str], ...] = ()

    def to_dict(self) -> dict:
        found: dict = {"facts": self.facts, "kb": self.kb, "rules": self.rules}
        if self.overlays:
            found["overlays"] = [dict(o) for o in self.overlays]
        return found


@dataclass(frozen=True)
class Decision:
    organization: OrganizationProfile
    workloads: tuple[WorkloadDecision, ...]
    stance: str
    stance_firing: Firing
    inputs: Inputs
    plan: HybridPlan | None = None
    # why the search for what would change the stances was skipped ("" when it was made)
    changes_left_out: str = ""
    # the most changes per set of what would change each stance, when asked for (`evaluate --max-changes`);
    # None: evaluate's default search (engine.stages.changes.smallest_changes)
    max_changes: int | None = None

    @property
    def placement(self) -> tuple[tuple[str, str], ...]:
        return tuple((w.id, w.stance) for w in self.workloads)
