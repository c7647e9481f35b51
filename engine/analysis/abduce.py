"""Sufficient reasons and smallest contrastive changes, by bounded search.

A **sufficient reason** for a workload's stance is a subset-minimal set of its
stated facts that keeps the stance whatever the other stated facts are — any
value the policy's tests distinguish, or left out. Facts that were not stated
stay unstated (a sufficient reason explains the file as given, not every file).

A **contrastive explanation** for another stance is a subset-minimal set of fact
changes (a value changed, a fact added or left out) that gives that stance;
fewest changes first, then the fewest steps along the facts' declared orders.

Domains are the values the policy's tests tell apart: one representative per
class of values on which every test of that fact comes out alike
(``decide``'s candidate values, grouped), plus "not stated". Checking a
sufficient reason enumerates every combination of the free facts when there
are at most ``exhaustive_limit`` of them; otherwise the extreme combinations,
each fact on its own and a fixed-seed sample are tried, and the result says so
(``exhaustive: false``). Every search has an evaluation budget and says when it
ran out.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace

from infra_policy.engine.model import WorkloadDecision
from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.policy.rules_ast import Value
from infra_policy.engine.stages.changes import ABSENT, ChangeSearch, Contrast, FactStep, domain
from infra_policy.engine.stages.infer import RuleBackend
from infra_policy.engine.vocabulary import Vocabulary

SETTLING_SAMPLE = 640  # the sample of the final check of a sufficient reason (larger than each step's)


@dataclass(frozen=True)
class SufficientReason:
    workload: str
    name: str
    stance: str
    facts: tuple[str, ...]  # the stated facts that alone keep the stance
    irrelevant: tuple[str, ...]  # the other stated facts
    exhaustive: bool  # every combination of the free facts was checked
    checked: int  # combinations evaluated
    values: tuple[tuple[str, Value], ...] = ()  # the stated values of ``facts``
    # for each fact of ``facts``: values of it and of the free facts that give another stance (minimality)
    witnesses: tuple[tuple[str, tuple[tuple[str, Value | None], ...]], ...] = ()
    # with every reason asked for (`--all`): False when the bound stopped the search before all were found
    all_found: bool = True


def _with(values: Mapping[str, Value], changes: Mapping[str, Value | None]) -> dict[str, Value]:
    out = dict(values)
    for name, value in changes.items():
        if value is ABSENT:
            out.pop(name, None)
        else:
            out[name] = value
    return out


class _Search:
    """Stances under changed facts (engine.stages.changes: only the rules the changes can affect are
    evaluated again), with the stated facts a sufficient reason may leave free."""

    def __init__(self, w: WorkloadDecision, policy: Policy, explorer: RuleBackend, vocabulary: Vocabulary, budget: int):
        self.w = w
        self.policy = policy
        self.vocabulary = vocabulary
        self.changes = ChangeSearch.of(w, policy, vocabulary)
        self.stated = {k: v for k, v in w.profile.values().items() if k in policy.tests_by_fact}
        self.budget = budget

    @property
    def evaluated(self) -> int:
        return self.changes.evaluated

    def stance(self, changes: Mapping[str, Value | None]) -> str:
        return self.changes.stance(changes)


def sufficient_reason(
    w: WorkloadDecision,
    policy: Policy,
    explorer: RuleBackend,
    vocabulary: Vocabulary,
    exhaustive_limit: int = 512,
    sample: int = 256,
    excluded: frozenset[str] = frozenset(),
    search: _Search | None = None,
) -> SufficientReason | None:
    """One subset-minimal set of stated facts that keeps the stance (deletion from the full set).

    With ``excluded``, one that leaves those facts free — None when the other stated facts alone do not
    keep the stance (never None without ``excluded``: all the stated facts keep it).
    """
    search = search or _Search(w, policy, explorer, vocabulary, budget=0)
    start = search.evaluated  # a search shared by several reasons (`--all`) counts each one's own
    stance = w.stance
    domains = {name: _free_domain(name, search, policy, vocabulary) for name in search.stated}
    exhaustive = True

    def keeps(free: list[str]) -> bool:
        nonlocal exhaustive
        found, complete = _counterexample(search, free, domains, stance, exhaustive_limit, sample)
        exhaustive = exhaustive and complete
        return found is None

    if excluded and not keeps(sorted(excluded)):
        return None
    # try to free the facts that weigh least first: those not weighed, then the others by name
    unweighed = {u.property for u in w.unweighed}
    order = sorted((n for n in search.stated if n not in excluded), key=lambda n: (n not in unweighed, n))
    kept = list(order)
    free: list[str] = sorted(excluded)
    for name in order:
        if keeps([*free, name]):
            free.append(name)
            kept.remove(name)
    # The checks above grew the free set one fact at a time, each on its own sample. Settle both ways on
    # one larger check: take facts back while the free set fails it (one the counterexample changes), and
    # give each kept fact a witness — values of it and the free facts that change the stance — or free it.
    witnesses: dict[str, dict] = {}
    settled = False
    while not settled:
        settled = True
        while free:
            found, complete = _counterexample(search, free, domains, stance, exhaustive_limit, SETTLING_SAMPLE)
            exhaustive = exhaustive and complete
            if found is None:
                break
            movable = [n for n in free if n not in excluded]
            if not movable:  # the facts that must stay free cannot: no reason leaves them out
                return None
            moved = [n for n in movable if found.get(n, search.stated[n]) != search.stated[n]] or movable
            kept.append(moved[-1])
            free.remove(moved[-1])
        witnesses = {}
        for name in sorted(kept):
            found, complete = _counterexample(search, [*free, name], domains, stance, exhaustive_limit, SETTLING_SAMPLE)
            if found is None:
                free.append(name)
                kept.remove(name)
                settled = False
                break
            witnesses[name] = found
    kept = sorted(kept)
    values = tuple((n, search.stated[n]) for n in kept)
    return SufficientReason(
        w.id,
        w.profile.name,
        stance,
        tuple(kept),
        tuple(sorted(free)),
        exhaustive,
        search.evaluated - start,
        values,
        tuple((n, tuple(sorted(witnesses[n].items()))) for n in kept),
    )


def sufficient_reasons(
    w: WorkloadDecision,
    policy: Policy,
    explorer: RuleBackend,
    vocabulary: Vocabulary,
    limit: int = 8,
    searches: int = 24,
) -> tuple[SufficientReason, ...]:
    """Every subset-minimal sufficient reason, up to ``limit`` of them and ``searches`` deletion searches.

    A hitting-set tree (Reiter 1987): the root's reason is the one :func:`sufficient_reason` gives; under
    a node that found reason R, each child leaves one more fact of R free, so every other minimal reason
    is found under some child. A reason already found that leaves a node's facts free answers it without a
    search, and a node whose free facts cannot all be free prunes every node that frees more. When a
    bound stops the tree, each reason returned has ``all_found`` False.
    """
    search = _Search(w, policy, explorer, vocabulary, budget=0)
    found: list[SufficientReason] = []
    dead: list[frozenset[str]] = []
    seen: set[frozenset[str]] = set()
    queue: list[frozenset[str]] = [frozenset()]
    complete = True
    runs = 0
    while queue:
        excluded = queue.pop(0)
        if excluded in seen or any(d <= excluded for d in dead):
            continue
        seen.add(excluded)
        reason = next((r for r in found if not excluded & set(r.facts)), None)
        if reason is None:
            if len(found) >= limit or runs >= searches:
                complete = False
                break
            runs += 1
            reason = sufficient_reason(w, policy, explorer, vocabulary, excluded=excluded, search=search)
            if reason is None:
                dead.append(excluded)
                continue
            if all(set(r.facts) != set(reason.facts) for r in found):
                found.append(reason)
        queue.extend(excluded | {name} for name in reason.facts)
    found.sort(key=lambda r: (len(r.facts), r.facts))
    return tuple(replace(r, all_found=complete) for r in found)


def _free_domain(name: str, search: _Search, policy: Policy, vocabulary: Vocabulary) -> list[Value | None]:
    """The values a free fact takes: its :func:`domain` and its stated value. The domain's classes are
    those of the fact's own tests; an input of the cost model also weighs through the facts computed
    from it, so its stated value may fall in a class of its own."""
    values = domain(name, policy, vocabulary)
    stated = search.stated.get(name, ABSENT)
    return values if stated in values else [*values, stated]


def _counterexample(
    search: _Search, free: list[str], domains: Mapping[str, list], stance: str, exhaustive_limit: int, sample: int
) -> tuple[dict | None, bool]:
    """Values of the ``free`` facts that change ``stance`` (None if none was found), and whether every
    combination was tried."""
    free = sorted(free)  # the same trials whatever order the facts were freed in
    combos = 1
    for name in free:
        combos *= len(domains[name])
    if combos <= exhaustive_limit:
        for values in itertools.product(*(domains[n] for n in free)):
            trial = dict(zip(free, values, strict=True))
            if search.stance(trial) != stance:
                return trial, True
        return None, True
    trials: list[dict] = []
    backgrounds = [{}, dict.fromkeys(free, ABSENT)]  # the others as stated, or all left out
    for pick in (1, -1):  # every free fact at its first / last stated class
        backgrounds.append({n: domains[n][min(pick, len(domains[n]) - 1)] for n in free})
    trials.extend(backgrounds)
    for background in backgrounds:  # each free fact at every class, over each background
        for name in free:
            trials.extend({**background, name: v} for v in domains[name])
    rng = random.Random(0)
    trials.extend({n: rng.choice(domains[n]) for n in free} for _ in range(sample))
    for trial in trials:
        if search.stance(trial) != stance:
            return trial, False
    return None, False


def counterexample(
    w: WorkloadDecision,
    policy: Policy,
    explorer: RuleBackend,
    vocabulary: Vocabulary,
    free: list[str],
    exhaustive_limit: int = 512,
    sample: int = 256,
) -> dict | None:
    """Values of the stated facts ``free`` that change the workload's stance, as the search finds them."""
    search = _Search(w, policy, explorer, vocabulary, budget=0)
    domains = {name: _free_domain(name, search, policy, vocabulary) for name in free}
    return _counterexample(search, free, domains, w.stance, exhaustive_limit, sample)[0]


def contrast(
    w: WorkloadDecision,
    policy: Policy,
    explorer: RuleBackend,
    vocabulary: Vocabulary,
    target: str,
    max_changes: int = 3,
    budget: int = 4000,
    stated_only: bool = False,
) -> Contrast:
    """Subset-minimal sets of at most ``max_changes`` fact changes that give ``target``, fewest first
    (engine.stages.changes: the search behind `evaluate`'s "what would change it" too)."""
    return ChangeSearch.of(w, policy, vocabulary).contrast(target, max_changes, budget, stated_only=stated_only)


# ---------------------------------------------------------------------------
# output


def _value(v: object) -> object:
    return list(v) if isinstance(v, tuple) else v


def sufficient_dict(r: SufficientReason, vocabulary: Vocabulary) -> dict:
    return {
        "workload": r.workload,
        "name": r.name,
        "stance": r.stance,
        "facts": [{"fact": f, "label": vocabulary.properties[f].label, "value": _value(v)} for f, v in r.values],
        "do_not_matter": list(r.irrelevant),
        "exhaustive": r.exhaustive,
        "combinations_checked": r.checked,
    }


def sufficient_all_dict(reasons: tuple[SufficientReason, ...], vocabulary: Vocabulary) -> dict:
    """One workload's minimal sufficient reasons (`--all`): each with the facts it keeps."""
    first = reasons[0]
    return {
        "workload": first.workload,
        "name": first.name,
        "stance": first.stance,
        "reasons": [
            {k: v for k, v in sufficient_dict(r, vocabulary).items() if k not in ("workload", "name", "stance")}
            for r in reasons
        ],
        "all_found": first.all_found,
    }


def contrast_dict(c: Contrast, vocabulary: Vocabulary) -> dict:
    from infra_policy.engine.outputs.export import change_set_json

    return {
        "workload": c.workload,
        "name": c.name,
        "stance": c.stance,
        "target": c.target,
        "max_changes": c.max_changes,
        "complete": c.complete,
        "exhaustive": c.exhaustive,
        "searched": c.searched(),
        "evaluated": c.evaluated,
        "changes": [change_set_json(combo, vocabulary) for combo in c.changes],
    }


def step_words(step: FactStep, vocabulary: Vocabulary) -> str:
    from infra_policy.engine.outputs.wording import fact_words, value_words

    label = fact_words(step.fact, vocabulary).removeprefix("the ")
    if step.after is None:
        return f"leave out the {label} (now {value_words(step.before, vocabulary)})"
    if step.before is None:
        return f"state the {label} as {value_words(step.after, vocabulary)}"
    return f"{label} {value_words(step.before, vocabulary)} → {value_words(step.after, vocabulary)}"


def render_sufficient(reasons: list[SufficientReason], vocabulary: Vocabulary) -> str:
    from infra_policy.engine.outputs.wording import fact_words, value_words, wrap

    out = []
    for r in reasons:
        n, m = len(r.facts), len(r.facts) + len(r.irrelevant)
        out.append(f"{r.name}: {r.stance}")
        out.append(f"  These {n} of its {m} stated facts decide it; the other {m - n} do not matter:")
        for f, v in r.values:
            label = fact_words(f, vocabulary).removeprefix("the ")
            out.extend(wrap(f"• {label}: {value_words(v, vocabulary)}", "    ", "      "))
        if r.irrelevant:
            others = ", ".join(fact_words(f, vocabulary).removeprefix("the ") for f in r.irrelevant)
            out.extend(wrap(f"Whatever their values, or if left out: {others}.", "  ", "    "))
        how = (
            "every combination of the other facts was checked"
            if r.exhaustive
            else "checked on the extreme combinations, each fact alone and a fixed sample (too many to try all)"
        )
        out.extend(wrap(f"({how}; {r.checked} combinations)", "  ", "   "))
        out.append("")
    return "\n".join(out)


def render_all_sufficient(groups: list[tuple[SufficientReason, ...]], vocabulary: Vocabulary, limit: int) -> str:
    """Every minimal sufficient reason of each workload (`--sufficient --all`), smallest first."""
    from infra_policy.engine.outputs.wording import fact_words, value_words, wrap

    out = []
    for reasons in groups:
        first = reasons[0]
        stated = len(first.facts) + len(first.irrelevant)
        out.append(f"{first.name}: {first.stance}")
        if len(reasons) == 1:
            head = f"One minimal set of its {stated} stated facts decides it:"
        else:
            head = f"{len(reasons)} minimal sets of its {stated} stated facts decide it, each on its own:"
        out.extend(wrap(head, "  ", "    "))
        for number, r in enumerate(reasons, start=1):
            facts = "; ".join(
                f"{fact_words(f, vocabulary).removeprefix('the ')}: {value_words(v, vocabulary)}" for f, v in r.values
            )
            out.extend(wrap(f"{number}. {facts or 'none: the stance holds whatever the facts are'}", "    ", "       "))
        needed = set().union(*(set(r.facts) for r in reasons))
        never = sorted((set(first.facts) | set(first.irrelevant)) - needed)
        if never:
            words = ", ".join(fact_words(f, vocabulary).removeprefix("the ") for f in never)
            out.extend(wrap(f"In none of them (they never decide it): {words}.", "  ", "    "))
        if not first.all_found:
            out.extend(
                wrap(
                    f"(the search stopped at its bound, after {len(reasons)} sets of at most {limit}: there may "
                    "be more)",
                    "  ",
                    "   ",
                )
            )
        elif all(r.exhaustive for r in reasons):
            out.append("  (these are all of them; every combination of the other facts was checked)")
        else:
            out.extend(
                wrap(
                    "(these are all the search found; each was checked on the extreme combinations, each fact alone "
                    "and a fixed sample, as there were too many combinations to try all)",
                    "  ",
                    "   ",
                )
            )
        out.append("")
    return "\n".join(out)


def render_contrast(contrasts: list[Contrast], vocabulary: Vocabulary, limit: int | None = 5) -> str:
    from infra_policy.engine.outputs.wording import wrap

    out = []
    for c in contrasts:
        if c.stance == c.target:
            out.append(f"{c.name}: already {c.target}")
            out.append("")
            continue
        out.append(f"{c.name}: {c.stance}; smallest changes that make it {c.target}:")
        shown = c.changes if limit is None else c.changes[:limit]
        if not shown:
            out.append(f"  none with at most {c.max_changes} changes")
        for combo in shown:
            out.extend(wrap("• " + "; ".join(step_words(s, vocabulary) for s in combo), "    ", "      "))
        if len(shown) < len(c.changes):
            out.append(f"    … and {len(c.changes) - len(shown)} more (all of them: --all)")
        searched = f"searched: {c.searched()}"
        if not c.complete:
            searched += f"; it stopped at its budget, after {c.evaluated} evaluations: larger sets may exist"
        out.extend(wrap(f"({searched})", "  ", "   "))
        out.append("")
    return "\n".join(out)
