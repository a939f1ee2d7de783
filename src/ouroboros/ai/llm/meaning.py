"""The meaning check of enrichment: new words may restyle a text, never change what it says.

Pure functions over payloads (no I/O, no model). What they promise:

- ``kind_problem``: a rewritten **name** keeps the kind of thing it names. Kind words are known
  per domain (an item's ``kind`` decides its own: a weapon's name may say Carbine or Blade, never
  Jacket; a room's: a street stays a street, a ground floor is never a Rooftop). A new name may
  not bring in a kind word of another kind than the object has (items) or than the old name had
  (rooms, NPCs); where the old name said its kind (an item: anywhere; a room or an NPC: in its
  last word, so "Relay Way Tenement, Floor 1" is no street), the new one must say it too.
- ``instruction_problem``: a quest's **description** stays its instructions: every name the old
  text mentions (of the payload's objects, or ``known_names``) is still mentioned, by its old or
  its newly enriched name, and an instruction verb (take down, deliver, visit, …) stays in it
  when one was there.
- Words are compared case-insensitively as whole words; the vocabularies are small and explicit
  (``KIND_WORDS``), so a refusal always names the word that broke the rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["INSTRUCTION_VERBS", "KIND_WORDS", "instruction_problem", "kind_problem", "words_of"]


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: domain -> kind -> the words that say a name is of that kind
KIND_WORDS: dict[str, dict[str, frozenset[str]]] = {
    "items": {
        "weapon": _vocabulary(
            "pistol blade carbine shotgun knuckles whip smartgun cleaver rifle gun sword katana knife "
            "dagger machete launcher revolver blaster smg axe hammer spear crossbow bow baton club "
            "sniper cannon railgun taser"
        ),
        "armour": _vocabulary(
            "vest jacket plating plate helm helmet greaves gauntlets gloves boots coat longcoat armour "
            "armor shield mail cuirass suit"
        ),
        "implant": _vocabulary("optics implant booster link mesh arm arms cyberdeck chip eye eyes"),
        "consumable": _vocabulary(
            "stim medi-gel gel shot nano-patch patch injector dose vial pill pills medkit kit tonic"
        ),
        "junk": _vocabulary("figurine chronometer holo-cube signet relic trinket curio statuette"),
    },
    "rooms": {
        "street": _vocabulary("street lane row way avenue spur road alley boulevard drive"),
        "roof": _vocabulary("rooftop roof roofs penthouse helipad"),
        "below": _vocabulary("basement cellar sewer sewers tunnel tunnels vault crypt"),
        "lot": _vocabulary("lot plot"),
    },
    "npcs": {
        "drone": _vocabulary("drone bot robot"),
        "boss": _vocabulary("king queen boss lord kingpin"),
    },
}
#: how a quest's instructions begin (the generator's verbs and the ones a model reaches for)
INSTRUCTION_VERBS = _vocabulary(
    "take down silence put end recover gather scavenge run deliver courier scout look case go find "
    "bring kill defeat collect visit retrieve return reach talk speak meet escort protect hunt stop "
    "destroy steal fetch investigate search clear thin"
)
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def words_of(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _kinds(domain: str, text: str) -> set[str]:
    found = words_of(text)
    return {kind for kind, vocabulary in KIND_WORDS.get(domain, {}).items() if found & vocabulary}


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _example(domain: str, kind: str, text: str) -> str:
    return sorted(words_of(text) & KIND_WORDS[domain][kind])[0]


def kind_problem(domain: str, obj: Mapping[str, Any], before: str, after: str) -> str | None:
    """Why ``after`` may not replace the name ``before`` of ``obj`` (in ``domain``); ``None``: it may."""
    if domain not in KIND_WORDS:
        return None
    old, new = _kinds(domain, before), _kinds(domain, after)
    own = obj.get("kind") if domain == "items" and obj.get("kind") in KIND_WORDS["items"] else None
    allowed = ({own} if own else set()) | old
    foreign = sorted(new - allowed)
    if foreign:
        what = _a(own) if own else f"{before!r}"
        word = _example(domain, foreign[0], after)
        return f"the new name calls {what} {_a(foreign[0])} ({word!r})"
    # what the old name says it is: an item's own kind anywhere in it, else its head (last) word
    # ("Relay Way Tenement, Floor 1" is a floor of a tenement on Relay Way, not a street)
    head = [w for w in _WORD.findall(before.lower()) if not w.isdigit()][-1:]
    kept = ({own} & old) if own else _kinds(domain, " ".join(head))
    if kept and not (new & kept):
        kind = sorted(kept)[0]
        said = _example(domain, kind, before)
        return f"the new name no longer says it is {_a(kind)} (the old one said {said!r})"
    return None


def _mentioned(text: str, name: str) -> bool:
    return (
        bool(name.strip()) and re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", text.lower()) is not None
    )


def instruction_problem(before: str, after: str, names: Iterable[tuple[str, str]]) -> str | None:
    """Why the quest description ``after`` does not keep the instructions of ``before``.

    ``names``: (old name, current name) of every object the text may mention; an object renamed
    in the same enrichment may be mentioned by either."""
    for old, current in names:
        if _mentioned(before, old) and not (_mentioned(after, old) or _mentioned(after, current)):
            return f"the instructions no longer mention {old!r}"
    verbs = words_of(before) & INSTRUCTION_VERBS
    if verbs and not words_of(after) & INSTRUCTION_VERBS:
        return f"the text no longer tells the player what to do (it said {sorted(verbs)[0]!r})"
    return None
