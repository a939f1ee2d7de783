"""One version bump: the version an object takes when a change replaces it.

Object versions are ``major.minor.patch`` (the content schema's ``Version``). Every component that
makes a new version of an existing object (the generators, the approval queue's rebase and undo,
the operator's parameter and model changes) asks ``next_version``; none counts on its own.

What it promises (pinned by property tests): ``next_version(v)`` is strictly greater than ``v``
in version order (``semver_key``), so it is monotonic (a greater version bumps to a greater one);
what it prints parses back (``parse_version``); ``None`` (no version yet) gives ``FIRST_VERSION``.
``version_above(proposed, current)`` is ``proposed`` when it is greater than ``current``, else
``next_version(current)``. Anything that is not a version is one ``BadInputError``.
"""

from __future__ import annotations

import re

from ouroboros.content._base import SEMVER_PATTERN
from ouroboros.errors import BadInputError

__all__ = ["FIRST_VERSION", "next_version", "parse_version", "version_above"]

FIRST_VERSION = "1.0.0"
_VERSION = re.compile(SEMVER_PATTERN[1:-1])
#: the largest part the schema takes (nine digits)
_PART_MAX = 999_999_999


def parse_version(version: str) -> tuple[int, int, int]:
    """``"1.10.0"`` -> ``(1, 10, 0)``; ``BadInputError`` for anything else."""
    match = _VERSION.fullmatch(version) if isinstance(version, str) else None
    if match is None:
        raise BadInputError(f"{version!r} is not a version (major.minor.patch)", code="bad_version")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def next_version(version: str | None) -> str:
    """The version after ``version``: one patch level above (``1.4.2`` -> ``1.4.3``, a full
    part carries into the next);
    ``FIRST_VERSION`` for ``None`` (an object that never had one)."""
    if version is None:
        return FIRST_VERSION
    major, minor, patch = parse_version(version)
    if patch < _PART_MAX:
        return f"{major}.{minor}.{patch + 1}"
    if minor < _PART_MAX:  # a part cannot grow past nine digits: carry, still strictly greater
        return f"{major}.{minor + 1}.0"
    if major < _PART_MAX:
        return f"{major + 1}.0.0"
    raise BadInputError(f"{version} is the last version there is", code="bad_version")


def version_above(proposed: str, current: str) -> str:
    """``proposed`` when it is above ``current``, else the version after ``current``."""
    if _VERSION.fullmatch(proposed) and parse_version(proposed) > parse_version(current):
        return proposed
    return next_version(current)
