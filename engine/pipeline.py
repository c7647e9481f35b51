"""The pipeline end to end: load → validate → profile → infer → decide → justify.

An :class:`Evaluator` holds what is the same for every facts file (knowledge
base, policy, compiled rules) so that a batch pays for it once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from infra_policy.engine.forked import collection_paused, forked_map, ranges
from infra_policy.engine.knowledge import KnowledgeBase, load_knowledge_base
from infra_policy.engine.model import Decision, Inputs, WorkloadDecision
from infra_policy.engine.policy.ruleload import Policy, load_policy
from infra_policy.engine.records.digest import graph_digest, text_digest
from infra_policy.engine.stages.decide import decide_organization, decide_workload, organization_plan
from infra_policy.engine.stages.infer import DirectPolicy, compile_policy, policy_stages
from infra_policy.engine.stages.justify import (
    JustificationGraph,
    build_justification,
    justification_parts,
    organization_part,
    rule_iri,
    workloads_part,
)
from infra_policy.engine.stages.load import FactsDocument, load_facts
from infra_policy.engine.stages.profile import OrganizationProfile, build_profile
from infra_policy.engine.stages.validate import validate_facts

# Up to this many workloads, an evaluation searches by default what would change each stance (the
# missing facts and questions): about half of the time of a workload, which a batch or a large
# organization should not pay for explanations nobody may read. Beyond it they are left out, the
# decision says so, and `--explore-changes` (explore_changes=True) brings them back.
EXPLORE_CHANGES_UP_TO = 100

# With several jobs, an organization's workloads are decided (and written, engine/outputs/export.py)
# by forked workers in tasks of at least this many workloads: below it, forking costs more than it saves.
WORKLOADS_PER_TASK = 100


@dataclass(frozen=True)
class Evaluation:
    """A decision, its justification and the facts it was made from.

    The justification graph is built when first asked for: a large organization written as JSON
    streams it in parts (:meth:`justification_parts`) and never holds it whole.
    """

    decision: Decision
    document: FactsDocument
    evaluator: Evaluator = field(repr=False, compare=False)

    @cached_property
    def justification(self) -> JustificationGraph:
        e = self.evaluator
        return build_justification(self.decision, e.claims_by_rule, e.claim_iris, self.document, e.node_labels)

    def justification_parts(self, workloads_per_part: int) -> Iterator[JustificationGraph]:
        """The justification graph in parts whose union is :attr:`justification` (see engine.stages.justify)."""
        if "justification" in self.__dict__:  # already whole
            yield self.justification
            return
        e = self.evaluator
        yield from justification_parts(
            self.decision, e.claims_by_rule, e.claim_iris, self.document, e.node_labels, workloads_per_part
        )

    def workloads_justification(self, start: int, stop: int) -> JustificationGraph:
        """The part of the justification that concludes the stances of workloads ``start`` to ``stop``."""
        e = self.evaluator
        chosen = self.decision.workloads[start:stop]
        return workloads_part(chosen, e.claims_by_rule, e.claim_iris, self.document, e.node_labels)

    def organization_justification(self) -> JustificationGraph:
        """The part of the justification that concludes the organization's stance from its workloads'."""
        e = self.evaluator
        return organization_part(self.decision, e.claims_by_rule, e.claim_iris, self.document, e.node_labels)


class Evaluator:
    def __init__(self, kb: KnowledgeBase, policy: Policy) -> None:
        self.kb = kb
        self.policy = policy
        multi_valued = frozenset(name for name, prop in kb.vocabulary.properties.items() if not prop.single)
        self.backend = compile_policy(policy, multi_valued)
        self.explorer = DirectPolicy(policy_stages(policy))
        self.claims_by_rule = {rule.id: rule.claims for rule in policy.rules}
        # what decide works out from a tally alone, shared by the workloads with the same tally (bounded)
        self.memo: dict = {}
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

    def evaluate_document(
        self,
        doc: FactsDocument,
        validate: bool = True,
        explore_changes: bool | None = None,
        max_changes: int | None = None,
        jobs: int = 1,
    ) -> Evaluation:
        """Decide ``doc``. ``explore_changes``: search what would change each stance (True), skip it
        (False), or search it only for organizations of up to :data:`EXPLORE_CHANGES_UP_TO` workloads (None).
        ``max_changes``: the most changes per set that search combines (None: its default, see
        engine.stages.changes.smallest_changes). ``jobs``: how many processes decide the workloads (see
        :meth:`decide`)."""
        with collection_paused():
            if validate:
                validate_facts(doc, self.kb)
            organization = self.profile(doc)
        decision = self.decide(doc, organization, explore_changes, max_changes, jobs)
        return self.justify(decision, doc)

    def profile(self, doc: FactsDocument) -> OrganizationProfile:
        """The organization and its workloads as plain records (validated facts expected)."""
        return build_profile(doc, self.kb.vocabulary)

    def decide(
        self,
        doc: FactsDocument,
        organization: OrganizationProfile,
        explore_changes: bool | None = None,
        max_changes: int | None = None,
        jobs: int = 1,
    ) -> Decision:
        """The decision on a profiled document (its justification comes with :meth:`justify`).

        Split from :meth:`evaluate_document` so that one profile can be decided under two policies
        (``impact``) when they share the knowledge base. ``explore_changes`` as for :meth:`evaluate_document`.
        With ``jobs`` > 1, the workloads (each decided on its own) are decided in that many forked
        processes, :data:`WORKLOADS_PER_TASK` or more at a time; the organization is decided here, from
        all of them, as with one job: the same decision either way.
        """
        count = len(organization.workloads)
        explore = explore_changes if explore_changes is not None else count <= EXPLORE_CHANGES_UP_TO

        def decide_range(bounds: tuple[int, int]) -> tuple[WorkloadDecision, ...]:
            return tuple(
                decide_workload(
                    w, self.policy, self.backend, self.explorer, self.kb.vocabulary, explore, self.memo, max_changes
                )
                for w in organization.workloads[bounds[0] : bounds[1]]
            )

        tasks = ranges(count, max(WORKLOADS_PER_TASK, -(-count // (jobs * 8))))
        workloads = tuple(w for part in forked_map(decide_range, tasks, jobs) for w in part)
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
            max_changes=max_changes if explore else None,
            changes_left_out=""
            if explore
            else (
                "the search was turned off (--no-explore-changes, explore_changes=False)"
                if explore_changes is not None
                else f"the organization has {count:,} workloads, more than {EXPLORE_CHANGES_UP_TO:,}"
            ),
        )

    def justify(self, decision: Decision, doc: FactsDocument) -> Evaluation:
        """The decision with its justification (built when first asked for)."""
        return Evaluation(decision, doc, self)

    def evaluate_file(self, path: str | Path) -> Evaluation:
        return self.evaluate_document(load_facts(path))
