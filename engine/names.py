"""What a person types to name a part of a decision, matched the way a person means it.

`explain --why` takes a workload or the organization (by ``ip:name``, by the local name of its IRI,
or by the IRI), a factor or a rule id. People type "customer support chatbot" for "Customer support
chatbot": names are compared without regard to case or surrounding spaces.
"""

from __future__ import annotations

from infra_policy.engine.knowledge import KnowledgeBase
from infra_policy.engine.pipeline import Evaluation
from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.stages.nearmiss import split_iri


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def canonical_name(ev: Evaluation, policy: Policy, kb: KnowledgeBase, name: str) -> str:
    """The exact spelling the decision uses for ``name`` (a workload's or the organization's IRI, a rule id
    or a factor id), or ``name`` unchanged when nothing matches."""
    wanted = _fold(name)
    d = ev.decision
    subjects = [(w.id, w.profile.name) for w in d.workloads] + [(d.organization.id, d.organization.name)]
    for iri, display_name in subjects:
        if wanted in (_fold(iri), _fold(display_name), _fold(split_iri(iri)[1])):
            return iri
    for known in (*policy.by_id, *kb.factors):
        if wanted == _fold(known):
            return known
    return name


__all__ = ["canonical_name"]
