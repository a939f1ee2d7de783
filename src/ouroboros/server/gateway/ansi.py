"""Text events as ANSI-coloured terminal text: one colour per style of ``game.STYLES``.

``render_text`` promises terminal-safe output whatever the text holds: every control character
but the newline is removed first (so game text, even generated text, cannot smuggle escape
sequences to a player's terminal), lines end in CR LF, and the colour is reset at the end.
"""

from __future__ import annotations

import re

RESET = "\x1b[0m"
STYLE_COLOURS: dict[str, str] = {
    "info": "",
    "room_title": "\x1b[1;96m",  # bold bright cyan
    "room": "\x1b[37m",  # white
    "exits": "\x1b[32m",  # green
    "things": "\x1b[33m",  # yellow
    "say": "\x1b[96m",  # bright cyan
    "emote": "\x1b[95m",  # bright magenta
    "combat": "\x1b[1;91m",  # bold bright red
    "loot": "\x1b[93m",  # bright yellow
    "quest": "\x1b[1;95m",  # bold bright magenta
    "error": "\x1b[91m",  # bright red
    "system": "\x1b[94m",  # bright blue
}

_CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """``text`` without control characters, except newlines."""
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\t", " "))


def render_text(style: str, text: str) -> str:
    """One text event as coloured terminal lines, each ending in CR LF."""
    body = terminal_safe(text).replace("\n", "\r\n")
    colour = STYLE_COLOURS.get(style, "")
    if colour:
        body = f"{colour}{body}{RESET}"
    return body + "\r\n"
