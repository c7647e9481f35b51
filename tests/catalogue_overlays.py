"""The error catalogue's cases for policy overlays and `impact` (docs/errors.md, "Policy overlays").

Kept in their own module so that the catalogue's list of cases grows without every change touching the
same lines; ``tests/test_errors_catalogue.py`` adds them to its cases.
"""

from __future__ import annotations

import textwrap

SECTION = "Policy overlays (--overlay) and impact"

FACTS = """\
@prefix ip: <https://w3id.org/infra-policy#> .
@prefix ex: <https://example.com/acme/> .
ex:acme a ip:Organization ; ip:name "Acme" ; ip:hasWorkload ex:chat .
ex:chat a ip:Workload ; ip:name "Chat" ; ip:dataSensitivity ip:Internal .
"""


def _overlay(text: str) -> str:
    return textwrap.dedent(text)


BACKWARDS_RULE = """\
  - id: privacy.gdpr-favors-cloud
    title: Personal data favors the cloud (backwards).
    when: {fact: regulatedBy, equals: GDPR}
    then: {assess: {favors: cloud, weight: 2}}
    rationale: Written backwards, so that the direction check refuses it.
    claims: [claim:cloud-pro-scalability]
"""


def overlay_cases(case) -> list:
    """The cases, built with the catalogue's ``Case`` class."""

    def evaluate(id: str, title: str, overlay: str, expect: str, exit: int = 2):
        files = {"facts.ttl": FACTS, "bank.yaml": _overlay(overlay)}
        return case(id, SECTION, title, ("evaluate", "facts.ttl", "--overlay", "bank.yaml"), exit, expect, files)

    return [
        evaluate(
            "overlay-schema",
            "An overlay that breaks its schema (rules/overlay.schema.json): each problem with its line",
            """\
            overlay: EU Bank
            weight:
              privacy.gdpr-transfers: 2
            thresholds:
              stance.clear-cloud: {balance: {equals: -0.3}}
            """,
            "Additional properties are not allowed",
        ),
        evaluate(
            "overlay-unknown-rule",
            "An overlay that names a rule the policy does not have, with the closest id",
            """\
            overlay: eu-bank
            weights:
              privacy.gdpr-transfer: 2
            disable: [latency.global-user]
            """,
            "Did you mean 'privacy.gdpr-transfers'?",
        ),
        evaluate(
            "overlay-weight",
            "A weight for a rule that does not assess, and a weight the rule schema does not allow",
            """\
            overlay: eu-bank
            weights:
              stance.clear-cloud: 2
              privacy.gdpr-transfers: 5
            """,
            "5 is not a weight; allowed: 1, 2, 3",
        ),
        evaluate(
            "overlay-threshold",
            "A threshold the rule does not test (its numeric tests are listed)",
            """\
            overlay: eu-bank
            thresholds:
              stance.clear-cloud: {balance: {at_least: -0.3}}
              stance.not-enough-facts: {total: {less_than: 6}}
            """,
            "its numeric tests: balance at_most -0.2",
        ),
        evaluate(
            "overlay-parameter",
            "A parameter the rule set does not have, and one of the wrong kind or out of range",
            """\
            overlay: eu-bank
            parameters:
              stance: {factor_cap: -1, strong_weight: "3", cap: 4}
              privacy: {factor_cap: 2}
            """,
            "rule set stance has no parameter 'cap'",
        ),
        evaluate(
            "overlay-added-rule-vocabulary",
            "An added rule with an unknown fact, an unknown claim and a rule set that does not exist",
            """\
            overlay: eu-bank
            add:
              - id: privacy.eu-only
                title: Personal data stays in the EU.
                when: {fact: regulatedByy, equals: GDPR}
                then: {assess: {favors: in-house, weight: 1}}
                rationale: The bank keeps personal data in the EU.
                claims: [claim:eu-sovereignty]
              - id: banking.eu-only
                title: Personal data stays in the EU.
                when: {fact: regulatedBy, equals: GDPR}
                then: {assess: {favors: in-house, weight: 1}}
                rationale: The bank keeps personal data in the EU.
                claims: [claim:inhouse-pro-data-privacy]
            """,
            "unknown fact 'regulatedByy'",
        ),
        evaluate(
            "overlay-added-rule-duplicate",
            "An added rule whose id the policy already has",
            """\
            overlay: eu-bank
            add:
              - id: privacy.gdpr-transfers
                title: Personal data under the GDPR favors in-house servers.
                when: {fact: regulatedBy, equals: GDPR}
                then: {assess: {favors: in-house, weight: 2}}
                rationale: The bank keeps personal data in the EU.
                claims: [claim:inhouse-pro-data-privacy]
            """,
            "the id is already a rule of privacy.yaml",
        ),
        evaluate(
            "overlay-non-monotone",
            "An overlay whose policy breaks a direction the knowledge base declares (rules check on the merge)",
            "overlay: backwards\nadd:\n" + BACKWARDS_RULE,
            "breaks a direction the knowledge base declares",
        ),
        evaluate(
            "overlay-stance-gap",
            "Stance thresholds that leave a tally without a stance (one of two rules moved)",
            """\
            overlay: clearer-lead
            thresholds:
              stance.clear-cloud: {balance: {at_most: -0.35}}
            """,
            "no stance rule fires",
        ),
        evaluate(
            "overlay-not-a-mapping",
            "An overlay that is not a mapping",
            "- privacy.gdpr-transfers: 2\n",
            "a policy overlay must be a mapping",
        ),
        case(
            "overlay-missing",
            SECTION,
            "An overlay file that does not exist",
            ("rules", "list", "--overlay", "bank.yaml"),
            2,
            "no such policy overlay",
        ),
        case(
            "impact-nothing-to-compare",
            SECTION,
            "impact without a change to measure",
            ("impact", "facts.ttl"),
            2,
            "nothing to compare",
            {"facts.ttl": FACTS},
        ),
        case(
            "impact-not-a-record",
            SECTION,
            "impact --records with a JSON file that is not a decision or a record",
            ("impact", "--records", "records", "--overlay", "bank.yaml"),
            2,
            "not a decision document (its format is",
            {
                "records/notes.json": '{"format": "something/else"}\n',
                "bank.yaml": "overlay: b\nweights:\n  privacy.gdpr-transfers: 2\n",
            },
        ),
    ]
