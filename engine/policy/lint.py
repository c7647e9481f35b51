"""What `rules check` finds besides monotonicity: dead rules, shadowed rules, double counting.

* **never fires** (a failure): a rule whose condition no facts can satisfy, given
  the domains of the facts it tests (``itStaffFTE < 0``, ``x > 5 and x < 3``,
  a conclusion no rule can derive) — see :mod:`~infra_policy.engine.policy.satisfy`;
* **shadowed** (a failure): a stance, plan or organization rule that can fire
  only when a rule that comes before it (lower priority, or the same priority
  and a lower id) fires too, so it never decides;
* **double counting** (a warning): two assessments for the same side that can
  fire for the same workload and rest on the same evidence — each cites the
  claim the other's weight rests on (its first claim) — yet have different
  first claims, so the tally, which counts each first claim once per side,
  counts the point twice. The policy may mean it (two distinct points drawn
  from the same claims); the warning asks the author to check. A rule that
  only mentions another rule's claim as context (one way) is not reported:
  citing supporting claims is what the claims list is for.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.policy.rules_ast import All, Any, Assess, Not
from infra_policy.engine.policy.satisfy import PolicyDomains

FAILURE_KINDS = ("never-fires", "shadowed")
WARNING_KINDS = ("double-counting",)


@dataclass(frozen=True)
class Finding:
    kind: str  # one of FAILURE_KINDS or WARNING_KINDS
    rules: tuple[str, ...]
    text: str

    @property
    def failure(self) -> bool:
        return self.kind in FAILURE_KINDS


def never_firing(policy: Policy, domains: PolicyDomains) -> list[Finding]:
    """Rules whose condition can never hold."""
    found = []
    for rule in policy.rules:
        verdict = domains.can_hold(rule)
        if verdict.satisfiable is False:
            found.append(Finding("never-fires", (rule.id,), f"{rule.id} can never fire: {verdict.reason}."))
    return found


def shadowed(policy: Policy, domains: PolicyDomains, dead: set[str] = frozenset()) -> list[Finding]:
    """Rules of the priority-ordered rule sets that fire only when an earlier rule fires too."""
    found = []
    for ordered in (policy.stance_rules, policy.plan_rules, policy.organization_rules):
        for index, rule in enumerate(ordered):
            if rule.id in dead:
                continue  # reported as never firing
            earlier = [e for e in ordered[:index] if e.id not in dead]
            if not earlier:
                continue
            alone = next(
                (e for e in earlier if domains.can_hold(rule, All((rule.when, Not(e.when)))).satisfiable is False),
                None,
            )
            if alone is not None:
                by = [alone]
            elif (
                domains.can_hold(rule, All((rule.when, Not(Any(tuple(e.when for e in earlier)))))).satisfiable is False
            ):
                by = earlier
            else:
                continue
            names = ", ".join(e.id for e in by)
            what = "it" if len(by) == 1 else "one of them"
            found.append(
                Finding(
                    "shadowed",
                    (rule.id, *(e.id for e in by)),
                    f"{rule.id} never decides: whenever it fires, {names} fires too and comes first "
                    f"({what} has a lower priority number, or the same and a lower id).",
                )
            )
    return found


def double_counting(policy: Policy, domains: PolicyDomains) -> list[Finding]:
    """Pairs of assessments for one side resting on the same claims, able to fire together, counted separately."""
    assessments = sorted((r for r in policy.factor_rules if isinstance(r.then, Assess)), key=lambda r: r.id)
    found = []
    for i, a in enumerate(assessments):
        for b in assessments[i + 1 :]:
            if a.then.favors != b.then.favors or a.primary_claim == b.primary_claim:
                continue
            if a.primary_claim not in b.claims or b.primary_claim not in a.claims:
                continue
            shared = sorted(set(a.claims) & set(b.claims))
            if domains.can_hold(a, All((a.when, b.when))).satisfiable is False:
                continue  # they never fire for the same workload
            found.append(
                Finding(
                    "double-counting",
                    (a.id, b.id),
                    f"{a.id} and {b.id} both argue for {a.then.favors} on the same claims ({', '.join(shared)}) "
                    f"and can fire for the same workload, but their weights rest on different first claims "
                    f"({a.primary_claim}; {b.primary_claim}), so the tally counts both. If they make the same "
                    "point, cite the same claim first (it then counts once); if not, cite only the claim each "
                    "rests on.",
                )
            )
    return found


def lint_policy(policy: Policy, vocabulary, factors) -> list[Finding]:
    """Every finding, failures first, in a stable order."""
    domains = PolicyDomains(policy, vocabulary, factors)
    dead = never_firing(policy, domains)
    findings = dead + shadowed(policy, domains, {f.rules[0] for f in dead}) + double_counting(policy, domains)
    return findings


__all__ = ["FAILURE_KINDS", "WARNING_KINDS", "Finding", "lint_policy"]
