"""The login screen as data: what a line typed before logging in means, and the texts shown.

Pure: no I/O, no state. The commands are the ones MUD players know (as in Evennia):
``create NAME PASSWORD``, ``connect NAME PASSWORD``, ``help``, ``quit``. The password is the rest
of the line after the name, so it may hold spaces. A ``LoginCommand`` never shows its password in
its ``repr`` (so it cannot end up in a log by accident).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ouroboros.server.gateway.accounts import (
    MAX_NAME_CHARS,
    MAX_PASSWORD_CHARS,
    MIN_NAME_CHARS,
    MIN_PASSWORD_CHARS,
)

Verb = Literal["create", "connect", "help", "quit", "empty", "usage", "unknown"]

_ALIASES = {
    "create": "create",
    "register": "create",
    "connect": "connect",
    "login": "connect",
    "help": "help",
    "?": "help",
    "quit": "quit",
    "exit": "quit",
    "logout": "quit",
}


@dataclass(frozen=True)
class LoginCommand:
    verb: Verb
    name: str = ""
    password: str = field(default="", repr=False)
    message: str = ""  # what to tell the player for ``usage`` and ``unknown``


def banner(game_name: str) -> str:
    return (
        f"=== {game_name.upper()} ===\n"
        "Welcome, runner. Jack in with one of:\n"
        "  connect NAME PASSWORD   play a character you have made\n"
        "  create NAME PASSWORD    make a new character\n"
        "Type 'help' for more, 'quit' to leave."
    )


HELP_TEXT = (
    "Login commands:\n"
    "  connect NAME PASSWORD   play your character (a newer connection takes over an older one)\n"
    "  create NAME PASSWORD    make a character; the name is yours alone\n"
    "  quit                    leave\n"
    f"A name is {MIN_NAME_CHARS}-{MAX_NAME_CHARS} letters; "
    f"a password is {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters."
)

UNKNOWN_TEXT = "Not a login command. Type 'connect NAME PASSWORD', 'create NAME PASSWORD' or 'help'."


def parse_login_line(line: str) -> LoginCommand:
    """What ``line`` (already cleaned) asks for on the login screen."""
    parts = line.strip().split(maxsplit=2)
    if not parts:
        return LoginCommand("empty")
    verb = _ALIASES.get(parts[0].lower())
    if verb is None:
        return LoginCommand("unknown", message=UNKNOWN_TEXT)
    if verb in ("help", "quit"):
        return LoginCommand("help" if verb == "help" else "quit")
    if len(parts) < 3:
        return LoginCommand("usage", message=f"Usage: {verb} NAME PASSWORD")
    return LoginCommand("create" if verb == "create" else "connect", name=parts[1], password=parts[2].strip())
