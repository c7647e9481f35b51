"""The knowledge base holds the vocabulary contract, the factors and the claims."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from rdflib import OWL, RDF, RDFS, Namespace

IP = Namespace("https://w3id.org/infra-policy#")
ARTICLE_RUNS = Path(__file__).parent / "data" / "article-6gram-hashes.txt"

# The public vocabulary contract (docs/design.md, Vocabulary): names must never change.
CONTRACT_PROPERTIES = {
    "name",
    "capitalBudgetUSD",
    "itStaffFTE",
    "hasDataCenter",
    "connectivity",
    "workforce",
    "costPredictabilityPriority",
    "recoveryTimeObjectiveHours",
    "hasSecondarySite",
    "customizationNeed",
    "dataSensitivity",
    "regulatedBy",
    "dataResidencyRequired",
    "latencyBudgetMs",
    "usersLocation",
    "demandPattern",
    "growthOutlook",
    "gpuHoursPerMonth",
    "acceleratorNeed",
}
CONTRACT_VALUES = {
    "connectivity": {"Reliable", "Intermittent", "AirGapped"},
    "workforce": {"OnSite", "Distributed"},
    "dataSensitivity": {"Public", "Internal", "Confidential", "Restricted"},
    "usersLocation": {"OnPremises", "Regional", "Global"},
    "demandPattern": {"Steady", "Seasonal", "Bursty"},
    "growthOutlook": {"Low", "Medium", "High"},
    "acceleratorNeed": {"Commodity", "Latest"},
}
FACTORS = {
    "control",
    "privacy",
    "latency",
    "scalability",
    "disaster-recovery",
    "cost-predictability",
    "initial-cost",
    "operations",
    "accessibility",
    "accelerators",
    "internet-dependency",
    "ease-of-use",
}


def test_every_contract_term_is_in_the_vocabulary(kb):
    assert set(kb.vocabulary.properties) >= CONTRACT_PROPERTIES
    for name, values in CONTRACT_VALUES.items():
        assert set(kb.vocabulary.properties[name].values) == values
    assert {"HIPAA", "GDPR", "PCIDSS", "SOX", "ITAR", "FedRAMP"} <= set(kb.vocabulary.properties["regulatedBy"].values)
    assert kb.vocabulary.properties["regulatedBy"].open_values


def test_every_ontology_term_has_a_label_and_a_comment(kb):
    g = kb.graph
    terms = (
        set(g.subjects(RDF.type, OWL.Class))
        | set(g.subjects(RDF.type, OWL.DatatypeProperty))
        | set(g.subjects(RDF.type, OWL.ObjectProperty))
        | set(g.subjects(RDF.type, OWL.NamedIndividual))
    )
    terms = {t for t in terms if str(t).startswith(str(IP))}
    assert len(terms) > 50
    for term in terms:
        assert g.value(term, RDFS.label), f"{term} has no rdfs:label"
        assert g.value(term, RDFS.comment), f"{term} has no rdfs:comment"


def test_single_and_multi_valued_properties_and_bounds(kb):
    props = kb.vocabulary.properties
    assert not props["regulatedBy"].single
    assert all(props[n].single for n in CONTRACT_PROPERTIES - {"regulatedBy"})
    assert props["latencyBudgetMs"].kind == "integer" and props["latencyBudgetMs"].minimum_exclusive
    assert props["capitalBudgetUSD"].minimum == 0 and not props["capitalBudgetUSD"].minimum_exclusive
    assert props["hasDataCenter"].kind == "boolean"


def test_factors_and_claims(kb):
    assert set(kb.factors) == FACTORS
    for factor in kb.factors.values():
        assert factor.label and factor.description
    sided = [c for c in kb.claims.values() if c.favors]
    # 4 + 4 in-house pros/cons, 6 + 5 cloud pros/cons: every bullet of the article
    assert len(sided) == 19
    for claim in kb.claims.values():
        assert claim.text and claim.section, claim.id
        if claim.favors:
            assert claim.factor in kb.factors, claim.id
    for factor in FACTORS:
        assert any(c.factor == factor for c in sided), f"no claim about {factor}"


def _six_word_runs(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {hashlib.sha256(" ".join(words[i : i + 6]).encode()).hexdigest()[:16] for i in range(len(words) - 5)}


def test_claims_and_factors_paraphrase_the_article_rather_than_copy_it(kb):
    article = {line for line in ARTICLE_RUNS.read_text().splitlines() if line and not line.startswith("#")}
    assert len(article) > 500
    for claim in kb.claims.values():
        assert not (_six_word_runs(claim.text) & article), f"{claim.id} copies six words in a row from the article"
    for factor in kb.factors.values():
        assert not (_six_word_runs(factor.description) & article), f"{factor.id} copies the article"


def test_vocabulary_suggests_the_closest_term(kb):
    assert kb.vocabulary.closest("dataSensitivty") == "dataSensitivity"
    assert kb.vocabulary.closest("latencyBudget") == "latencyBudgetMs"
    assert kb.vocabulary.closest("zzzz") is None
