"""The pipeline end to end: load → validate → profile → infer → decide → justify.

An :class:`Evaluator` holds what is the same for every facts file (knowledge
base, policy, compiled rules) so that a batch pays for it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from infra_policy.engine.knowledge import KnowledgeBase, load_knowledge_base
from infra_policy.engine.model import Decision, Inputs
from infra_policy.engine.policy.ruleload import Policy, load_policy
from infra_policy.engine.records.digest import graph_digest, text_digest
from infra_policy.engine.stages.decide import decide_organization, decide_workload, organization_plan
from infra_policy.engine.stages.infer import DirectPolicy, compile_policy, policy_stages
from infra_policy.engine.stages.justify import JustificationGraph, build_justification, rule_iri
from infra_policy.engine.stages.load import FactsDocument, load_facts
from infra_policy.engine.stages.profile import OrganizationProfile, build_profile
from infra_policy.engine.stages.validate import validate_facts


@dataclass(frozen=True)
class Evaluation:
    """A decision, its justification and the facts it was made from."""

    decision: Decision
    justification: JustificationGraph
    document: FactsDocument


class Evaluator:
    def __init__(self, kb: KnowledgeBase, policy: Policy) -> None:
        self.kb = kb
        self.policy = policy
        multi_valued = frozenset(name for name, prop in kb.vocabulary.properties.items() if not prop.single)
        self.backend = compile_policy(policy, multi_valued)
        self.explorer = DirectPolicy(policy_stages(policy))
        self.claims_by_rule = {rule.id: rule.claims for rule in policy.rules}
        self.claim_iris = {cid: claim.iri for cid, claim in kb.claims.items()}
        # readable labels for the knowledge-base nodes of every justification graph
        self.node_labels = {rule_iri(rule.id): f"{rule.id}: {rule.title}" for rule in policy.rules}
        self.node_labels |= {claim.iri: f"{cid} — {claim.label} ({claim.section})" for cid, claim in kb.claims.items()}

    @classmethod
    def load(cls, kb_dir: Path | None = None, rules_dir: Path | None = None) -> Evaluator:
        kb = load_knowledge_base(kb_dir)
        return cls(kb, load_policy(kb, rules_dir))

    @cached_property
    def kb_digest(self) -> str:
        return graph_digest(self.kb.graph + self.kb.shapes)

    @cached_property
    def rules_digest(self) -> str:
        return text_digest(self.policy.canonical())

    def evaluate_document(self, doc: FactsDocument, validate: bool = True) -> Evaluation:
        if validate:
            validate_facts(doc, self.kb)
        decision = self.decide(doc, self.profile(doc))
        return self.justify(decision, doc)

    def profile(self, doc: FactsDocument) -> OrganizationProfile:
        """The organization and its workloads as plain records (validated facts expected)."""
        return build_profile(doc, self.kb.vocabulary)

    def decide(self, doc: FactsDocument, organization: OrganizationProfile) -> Decision:
        """The decision on a profiled document, without its justification graph.

        Split from :meth:`evaluate_document` so that one profile can be decided under two policies
        (``impact``) when they share the knowledge base.
        """
        workloads = tuple(
            decide_workload(w, self.policy, self.backend, self.explorer, self.kb.vocabulary)
            for w in organization.workloads
        )
        stance, firing = decide_organization(
            organization, {w.id: w.stance for w in workloads}, self.policy, self.backend
        )
        stated = doc.stated_graph if doc.stated_graph is not None else doc.graph
        return Decision(
            organization=organization,
            workloads=workloads,
            stance=stance,
            stance_firing=firing,
            # the digest of the facts as the file states them; assumed facts (`--set`) are listed apart
            inputs=Inputs(
                facts=graph_digest(stated),
                kb=self.kb_digest,
                rules=self.rules_digest,
                overlays=tuple(o.summary() for o in self.policy.overlays),
            ),
            plan=organization_plan(stance, workloads, self.policy),
        )

    def justify(self, decision: Decision, doc: FactsDocument) -> Evaluation:
        """The decision with its justification graph."""
        justification = build_justification(decision, self.claims_by_rule, self.claim_iris, doc, self.node_labels)
        return Evaluation(decision, justification, doc)

    def evaluate_file(self, path: str | Path) -> Evaluation:
        return self.evaluate_document(load_facts(path))
