"""The numbers gate: the pipeline holds every machine-made bundle to the guardrails' numbers.

The generators and the council check their own drafts (``ai.guardrails``), but they run in the
process that holds the generator's signing key; the pipeline does not take their word for it.
After the door (``door.verify``) and before the static stage, a bundle that a machine made is
checked by the same pure rules (``content.rules.check_content``): power budget by rarity, the
caps on damage, armour, prices, hit points and rewards, new rooms per change, banned words and
themes, and the legendary rate.

What it promises:

- A bundle is machine-made when its author is a ``generator`` or an ``llm``, or when one of the
  keys that signed it is a generator's (``MACHINE_KEYS``): a generator key cannot slip a change
  past the gate by calling itself an operator.
- The guardrails in force are read at every submit from ``guardrails.json`` in the data folder,
  or, for a world folder of a ``go`` data folder (``DATA/neon``), the shared
  ``DATA/guardrails.json``; neither present: the defaults. A file that does not parse refuses
  every machine-made bundle (``guardrails_unreadable``): the gate fails closed.
- The legendary rate counts the items of the machine-made versions on the active lineage (newest
  first, the last ``HISTORY_WINDOW`` items) plus the bundle's own.
- Every broken rule is a ``Reason`` of stage ``numbers`` whose message carries the number found
  and the limit; nothing is clamped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ouroboros.content.rules import HISTORY_WINDOW, Guardrails, check_content, parse_guardrails
from ouroboros.errors import BadInputError, Reason
from ouroboros.patches.door import VerifiedBundle

__all__ = ["GUARDRAILS_FILE", "MACHINE_AUTHORS", "MACHINE_KEYS", "guardrails_for", "machine_made", "numbers"]

GUARDRAILS_FILE = "guardrails.json"
MACHINE_AUTHORS = frozenset({"generator", "llm"})
#: the names of the keys the council and the evolution loop sign with
MACHINE_KEYS = frozenset({"generator", "evolution"})
#: how far back the legendary rate looks along the active lineage, at most
_MAX_VERSIONS_SCANNED = 1000


def machine_made(bundle: VerifiedBundle) -> bool:
    return bundle.author_type in MACHINE_AUTHORS or bool(bundle.signer_names & MACHINE_KEYS)


def guardrails_for(data: Path) -> Guardrails:
    """The guardrails in force for the data folder ``data`` (see the module); ``BadInputError``
    when the file in force does not parse."""
    for path in (data / GUARDRAILS_FILE, data.parent / GUARDRAILS_FILE):
        if path.is_file():
            try:
                doc = json.loads(path.read_bytes().decode("utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise BadInputError(f"{path}: {exc}", code="bad_guardrails") from None
            return parse_guardrails(doc)
    return Guardrails()


def _legendary(content: Any) -> list[bool]:
    items = content.get("items") if isinstance(content, dict) else None
    return [isinstance(i, dict) and i.get("rarity") == "legendary" for i in items or ()]


def legendary_before(ledger: Any, active: str | None) -> int:
    """Legendary items among the last ``HISTORY_WINDOW`` items the machine-made versions of the
    active lineage added (``ledger``: ``bundle`` and ``parent_of`` by patch id)."""
    flags: list[bool] = []
    node, scanned = active, 0
    while node is not None and len(flags) < HISTORY_WINDOW and scanned < _MAX_VERSIONS_SCANNED:
        doc = ledger.bundle(node) or {}
        author = doc.get("author")
        if isinstance(author, dict) and author.get("type") in MACHINE_AUTHORS:
            flags.extend(reversed(_legendary(doc.get("content"))))
        node, scanned = ledger.parent_of(node), scanned + 1
    return sum(flags[:HISTORY_WINDOW])


def numbers(
    bundle: VerifiedBundle,
    guardrails: Guardrails,
    *,
    known_rooms: Iterable[str],
    legendary_so_far: int,
) -> list[Reason]:
    """The gate's refusals of ``bundle`` (``[]``: it passes), for a bundle found machine-made."""
    violations = check_content(
        bundle.content_json(), guardrails, known_rooms=known_rooms, legendary_before=legendary_so_far
    )
    return [
        Reason("numbers", v.code, f"/content{v.path}", f"{v.message} (found {v.value}, limit {v.limit})")
        for v in violations
    ]
