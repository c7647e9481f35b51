"""Mapping the engine's errors to a message and an exit status (docs/design.md, "Errors and exit status").

2 for bad input or usage, 3 for an internal error; ``--debug`` (an option of
the root command) shows the traceback.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback

import click

EXIT_INPUT = 2
EXIT_INTERNAL = 3


def handle_errors(command):
    """Turn engine errors into a message and an exit status."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        debug = bool(ctx.find_root().params.get("debug"))
        from infra_policy.engine.errors import EngineError, InputError
        from infra_policy.engine.stages.inputs import quiet_libraries

        try:
            if debug:
                return command(*args, **kwargs)
            with quiet_libraries():
                return command(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            # the reader went away (`infra-policy … | head`): what it read is all it wanted; stop quietly,
            # as other command-line tools do, and keep Python from complaining about the closed stdout
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except InputError as exc:
            _fail(str(exc), EXIT_INPUT, debug)
        except EngineError as exc:
            _fail(f"the policy could not be evaluated: {exc}", EXIT_INPUT, debug)
        except Exception as exc:  # a bug: say so plainly
            _fail(
                f"internal error ({type(exc).__name__}: {exc}). Please report it; "
                "rerun with --debug for the traceback.",
                EXIT_INTERNAL,
                debug,
            )

    return wrapper


def _fail(message: str, status: int, debug: bool) -> None:
    if debug:
        traceback.print_exc(file=sys.stderr)
    click.echo(f"error: {message}", err=True)
    sys.exit(status)
