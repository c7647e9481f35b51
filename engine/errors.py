"""Errors the engine raises for bad input or a broken policy.

Every error carries a complete, human sentence (or paragraph): the CLI prints
``str(error)`` as is and maps the class to an exit status, so the message must
name the file, the line or subject, what is wrong and what is allowed.

An input with several problems gets one error listing all of them
(:func:`problem_list`), each problem also kept on its own in ``problems`` so
callers (records, logs, editors) can use them without parsing the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Control characters other than newline and tab: a hostile file could move the
# cursor or retitle the terminal through a message that quotes it.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters (but newlines and tabs) written as escapes such as ``\\x1b``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def problem_list(source: object, problems: Sequence[str], what: str) -> str:
    """``"<source>: 2 problems <what>:"`` followed by one indented line per problem."""
    count = len(problems)
    head = f"{source}: {count} problem{'s' if count != 1 else ''} {what}:"
    return "\n".join([head, *(f"  - {problem}" for problem in problems)])


class InfraPolicyError(Exception):
    """Base of every error the engine raises on purpose."""


class InputError(InfraPolicyError):
    """The user's input (facts, rules, knowledge base) cannot be used."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        message = printable(message)
        super().__init__(message)
        # Each problem on its own; a single-problem error lists its message.
        self.problems = tuple(printable(p) for p in problems) or (message,)

    def __reduce__(self):  # whole across processes (a forked worker's error is raised in the parent)
        return type(self), (str(self), self.problems)


class FactsError(InputError):
    """A facts file is unreadable, unparsable or invalid."""

    @classmethod
    def listing(cls, source: object, problems: Sequence[str]) -> FactsError:
        return cls(problem_list(source, problems, "in the facts"), tuple(problems))


class RulesError(InputError):
    """A rule file is unreadable or breaks the schema or the vocabulary."""

    @classmethod
    def listing(cls, source: object, problems: Sequence[str]) -> RulesError:
        return cls(problem_list(source, problems, "in the rule files"), tuple(problems))


class KnowledgeBaseError(InputError):
    """The knowledge base is unreadable or incomplete."""


class EngineError(InfraPolicyError):
    """The rule engine failed while evaluating (a bug or a broken policy).

    ``rule`` names the rule whose action failed, when it is known.
    """

    def __init__(self, message: str, rule: str | None = None) -> None:
        super().__init__(printable(message))
        self.rule = rule

    def __reduce__(self):  # whole across processes (a forked worker's error is raised in the parent)
        return type(self), (str(self), self.rule)
