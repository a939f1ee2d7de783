"""The one place where the command line turns an error into its exit.

What it promises:

- Every command runs its work inside ``command_boundary()``. An ``OuroborosError`` that reaches it
  ends the command with one ``error: `` line on stderr and the error's own ``exit_code`` (1 the
  operation failed or was refused, 2 bad input; see ``ouroboros.errors``). No command picks an
  exit code for an error itself.
- A ``RejectedError`` prints its first reasons (``code at path: message; ...``), not only the first.
- An unreadable or unwritable file (``OSError``) and JSON nested past the recursion limit are bad
  input (exit 2). Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from ouroboros.errors import EXIT_BAD_INPUT, EXIT_FAILED, OuroborosError, RejectedError

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "command_boundary", "exit_code_of", "fail", "message_of"]


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """End the command: ``error: message`` on stderr, exit ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def message_of(exc: OuroborosError) -> str:
    """The one line a user reads for ``exc``."""
    if isinstance(exc, RejectedError):
        return exc.summary()
    return exc.message


def exit_code_of(exc: BaseException) -> int:
    """The exit status an error ends a command with."""
    if isinstance(exc, OuroborosError):
        return exc.exit_code
    if isinstance(exc, OSError | RecursionError):
        return EXIT_BAD_INPUT
    return EXIT_FAILED


@contextmanager
def command_boundary() -> Iterator[None]:
    """Run a command's work; the errors a user can meet become one ``error:`` line and their exit code."""
    try:
        yield
    except OuroborosError as exc:
        fail(message_of(exc), exit_code_of(exc))
    except RecursionError:
        fail("the JSON given is nested too deeply", exit_code_of(RecursionError()))
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        fail(f"{exc.strerror or exc}{where}", exit_code_of(exc))
