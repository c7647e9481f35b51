"""Errors the engine raises for bad input or a broken policy.

Every error carries a complete, human sentence (or paragraph): the CLI prints
``str(error)`` as is and maps the class to an exit status, so the message must
name the file, the line or subject, what is wrong and what is allowed.
"""

from __future__ import annotations


class InfraPolicyError(Exception):
    """Base of every error the engine raises on purpose."""


class InputError(InfraPolicyError):
    """The user's input (facts, rules, knowledge base) cannot be used."""


class FactsError(InputError):
    """A facts file is unreadable, unparsable or invalid."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class RulesError(InputError):
    """A rule file is unreadable or breaks the schema or the vocabulary."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class KnowledgeBaseError(InputError):
    """The knowledge base is unreadable or incomplete."""


class EngineError(InfraPolicyError):
    """The rule engine failed while evaluating (a bug or a broken policy)."""
