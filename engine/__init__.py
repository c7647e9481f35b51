"""The pure core of infra-policy: from facts to an explained stance.

No printing, no exiting: every stage is a function over plain data and rdflib
graphs (see docs/design.md, "Pipeline").  Start with :class:`Evaluator`,
or with the library API, ``infra_policy.evaluate``.
"""

from infra_policy.engine.errors import (
    EngineError,
    FactsError,
    InfraPolicyError,
    InputError,
    KnowledgeBaseError,
    RulesError,
)

__all__ = [
    "EngineError",
    "FactsError",
    "InfraPolicyError",
    "InputError",
    "KnowledgeBaseError",
    "RulesError",
]
