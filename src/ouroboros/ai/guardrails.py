"""Guardrails: the budgets and bans every generated proposal must keep, and the file they live in.

What it promises:

- ``Guardrails`` is frozen, strict data with defaults; every cap names its unit in its field
  description (credits, points, rooms, jobs per minute). Ratios are integers, never floats.
- ``check(proposal, guardrails, history=...)`` is pure: it reads the proposal's payload (never its
  ``budget`` field, which a generator writes and an enrich stage could not be trusted to keep) and
  returns every ``Violation`` with the number found and the limit broken. A proposal over budget
  is *rejected with its numbers*, never clamped: nothing here edits a proposal.
- Item power is counted by one rule, ``item_power`` (``POINT_COSTS``), which the item generator
  spends by and this module checks by, so the two cannot disagree.
- Banned words (the operator's list and the shipped ``banned_terms.txt``) are looked for in every
  text of the payload (any string with a space or a capital letter, and every ``name``,
  ``description`` and ``text`` field), in the flavour texts and the summary; banned themes in the
  tags and as phrases in those texts, whatever separates the theme's words (space, hyphen,
  underscore, dot, nothing at all: "self-harm", "self_harm" and "selfharm" are all "self harm").
- The invariants a proposal names (``generators.invariants``: ``refs_resolve``, ``slot_fits_name``,
  the map invariants ...) are verified by ``check`` too; a broken one is a violation with code
  ``invariant_broken`` and the invariant's name as its value. The map invariants need the
  ``content`` the proposal grows into and are skipped without it.
- ``GuardrailsFile`` reloads its file when its mtime or size changes; a bad file keeps the last
  good guardrails in force and says why in ``last_error``; ``write`` validates before it writes,
  atomically (a crash leaves the old or the new file).
- ``RarityHistory`` is the last 100 item rarities, plain data the caller persists.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from ouroboros.ai.proposals import Proposal, ProposalType
from ouroboros.content.text_checks import default_banned_terms, find_banned_terms, fold_word
from ouroboros.errors import BadInputError, GuardrailError
from ouroboros.patches import canonical_bytes, write_atomic

__all__ = [
    "CRIT_EXTENSION",
    "POINT_COSTS",
    "PROCS_EXTENSION",
    "RARITY_ORDER",
    "Guardrails",
    "GuardrailsFile",
    "RarityHistory",
    "Violation",
    "check",
    "enforce",
    "item_power",
    "letter_runs",
    "parse_guardrails",
]

RARITY_ORDER: tuple[str, ...] = ("common", "uncommon", "rare", "epic", "legendary")
#: where an item keeps what the content schema has no field for (the city ignores them today)
CRIT_EXTENSION = "neon.crit_permille"
PROCS_EXTENSION = "neon.procs"
#: what one unit of each stat costs in power points; crit is bought in steps of 10 permille
POINT_COSTS: dict[str, int] = {
    "damage": 1,
    "accuracy": 1,
    "armour": 2,
    "heal_per_3hp": 1,
    "crit_per_10": 1,
    "proc": 6,
}
HISTORY_WINDOW = 100
#: the most points any rarity may spend: keeps every stat inside the content schema's caps
MAX_RARITY_BUDGET_POINTS = 200


def item_power(item: Mapping[str, Any]) -> int:
    """The power points an item (content JSON) spends: damage, accuracy (a malus refunds
    nothing), armour, healing, crit chance and procs, each at its ``POINT_COSTS`` price."""
    stats = item.get("stats") or {}
    extensions = item.get("extensions") or {}
    crit = extensions.get(CRIT_EXTENSION, 0)
    procs = extensions.get(PROCS_EXTENSION, ())
    return (
        POINT_COSTS["damage"] * int(stats.get("damage", 0))
        + POINT_COSTS["accuracy"] * max(0, int(stats.get("accuracy", 0)))
        + POINT_COSTS["armour"] * int(stats.get("armour", 0))
        + POINT_COSTS["heal_per_3hp"] * (int(stats.get("heal", 0)) + 2) // 3
        + POINT_COSTS["crit_per_10"] * ((int(crit) if isinstance(crit, int) else 0) + 9) // 10
        + POINT_COSTS["proc"] * (len(procs) if isinstance(procs, list) else 0)
    )


def _to_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


_Words = Annotated[tuple[Annotated[str, Field(min_length=1, max_length=80)], ...], BeforeValidator(_to_tuple)]


def _default_budgets() -> dict[str, int]:
    return {"common": 12, "uncommon": 20, "rare": 32, "epic": 44, "legendary": 56}


class Guardrails(BaseModel):
    """The caps in force. Missing fields take their defaults; unknown fields are refused."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    max_weapon_damage: int = Field(default=60, ge=0, le=1000, description="weapon damage, points")
    max_armor: int = Field(default=30, ge=0, le=1000, description="item armour, points")
    max_money_drop: int = Field(
        default=2000, ge=0, le=1_000_000, description="credits one quest pays or one npc drops"
    )
    max_item_price: int = Field(default=30_000, ge=0, le=1_000_000, description="item price, credits")
    max_npc_damage: int = Field(default=60, ge=0, le=100_000, description="npc damage, points")
    max_npc_hp: int = Field(default=2000, ge=1, le=1_000_000, description="npc hit points")
    max_quest_xp: int = Field(
        default=3000, ge=0, le=1_000_000, description="experience points one quest pays"
    )
    max_legendary_per_100: int = Field(
        default=1, ge=0, le=100, description="legendary items in the last 100 item generations"
    )
    rarity_budget_points: dict[str, int] = Field(
        default_factory=_default_budgets, description="power points an item of each rarity may spend"
    )
    banned_words: _Words = Field(default=(), description="words no generated text may contain")
    banned_themes: _Words = Field(
        default=("self harm", "sexual violence", "child abuse", "genocide"),
        description="themes no proposal may carry, as tags or as phrases in its text",
    )
    jobs_per_minute: int = Field(default=6, ge=0, le=600, description="generation jobs per minute")
    max_concurrent_expansions: int = Field(default=1, ge=0, le=16, description="expansions in flight")
    max_rooms_per_expansion: int = Field(default=12, ge=1, le=200, description="new rooms per proposal")

    @model_validator(mode="after")
    def _budgets_cover_every_rarity(self) -> Guardrails:
        if set(self.rarity_budget_points) != set(RARITY_ORDER):
            raise ValueError(f"rarity_budget_points needs exactly {', '.join(RARITY_ORDER)}")
        points = [self.rarity_budget_points[r] for r in RARITY_ORDER]
        if any(not 0 <= p <= MAX_RARITY_BUDGET_POINTS for p in points) or points != sorted(points):
            raise ValueError(
                f"rarity_budget_points must lie in [0, {MAX_RARITY_BUDGET_POINTS}] and grow with rarity"
            )
        return self

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class Violation:
    """One broken guardrail: ``value`` found at ``path`` (a JSON pointer into the payload) against
    ``limit``."""

    code: str
    path: str
    value: int | str
    limit: int | str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "path": self.path,
            "value": self.value,
            "limit": self.limit,
            "message": self.message,
        }


@dataclass
class RarityHistory:
    """The rarities of the last ``HISTORY_WINDOW`` item generations, oldest first."""

    rarities: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        unknown = sorted({r for r in self.rarities if r not in RARITY_ORDER})
        if unknown:
            raise BadInputError(f"unknown rarities in history: {', '.join(unknown)}")
        self.rarities = list(self.rarities[-HISTORY_WINDOW:])

    def record(self, rarity: str) -> None:
        if rarity not in RARITY_ORDER:
            raise BadInputError(f"unknown rarity {rarity!r}")
        self.rarities.append(rarity)
        del self.rarities[:-HISTORY_WINDOW]

    def record_proposal(self, proposal: Proposal) -> None:
        """Count the items an accepted proposal adds."""
        for item in proposal.payload.get("items") or ():
            self.record(str(item.get("rarity", "common")))

    def count(self, rarity: str) -> int:
        return self.rarities.count(rarity)

    def as_list(self) -> list[str]:
        return list(self.rarities)


# --- the check ------------------------------------------------------------------------------------

_TEXT_KEYS = frozenset({"name", "description", "text", "summary"})


def _texts(value: Any, pointer: str, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if key in _TEXT_KEYS or " " in value or any(c.isupper() for c in value):
            yield pointer, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            escaped = str(k).replace("~", "~0").replace("/", "~1")
            yield from _texts(v, f"{pointer}/{escaped}", str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _texts(v, f"{pointer}/{i}", key)


def _objects(payload: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for domain, objects in payload.items():
        if domain != "remove" and isinstance(objects, list):
            yield from (o for o in objects if isinstance(o, Mapping))


def letter_runs(text: str) -> list[str]:
    """``text`` as its runs of letters, lower case and without accents: every other character
    (space, hyphen, underscore, dot, slash, digit, emoji ...) separates words."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _LETTERS.findall(plain.casefold())


_LETTERS = re.compile(r"[^\W\d_]+")


def _theme_key(theme: str) -> str:
    """A theme's letters, joined: ``"self harm"`` -> ``"selfharm"`` (empty: no letters at all)."""
    return "".join(letter_runs(theme))


def _has_theme(runs: list[str], key: str) -> bool:
    """Whether consecutive letter runs spell ``key`` exactly, whatever separated them: ``self harm``,
    ``self-harm``, ``self_harm``, ``self.harm``, ``selfharm`` and ``s-e-l-f harm`` all spell
    ``selfharm``; ``selfharming`` and ``myself harm`` do not (a run must start and end on a word
    edge)."""
    for start in range(len(runs)):
        spelled = ""
        for run in runs[start:]:
            spelled += run
            if spelled == key:
                return True
            if not key.startswith(spelled):
                break
    return False


def _over(violations: list[Violation], path: str, value: int, limit: int, what: str) -> None:
    if value > limit:
        violations.append(
            Violation("over_budget", path, value, limit, f"{what} {value} is over the limit {limit}")
        )


def _check_numbers(proposal: Proposal, g: Guardrails, out: list[Violation]) -> None:
    payload = proposal.payload
    for i, item in enumerate(payload.get("items") or ()):
        stats = item.get("stats") or {}
        at = f"/items/{i}"
        if item.get("kind") == "weapon":
            _over(
                out, f"{at}/stats/damage", int(stats.get("damage", 0)), g.max_weapon_damage, "weapon damage"
            )
        _over(out, f"{at}/stats/armour", int(stats.get("armour", 0)), g.max_armor, "item armour")
        _over(out, f"{at}/price", int(item.get("price", 0)), g.max_item_price, "item price (credits)")
        rarity = str(item.get("rarity", "common"))
        allowed = g.rarity_budget_points.get(rarity, 0)
        _over(out, at, item_power(item), allowed, f"power points of a {rarity} item")
    for i, npc in enumerate(payload.get("npcs") or ()):
        at = f"/npcs/{i}"
        _over(out, f"{at}/damage", int(npc.get("damage", 0)), g.max_npc_damage, "npc damage")
        _over(out, f"{at}/hp", int(npc.get("hp", 0)), g.max_npc_hp, "npc hit points")
        credits = (npc.get("extensions") or {}).get("neon.credits", 0)
        if isinstance(credits, int):
            _over(out, f"{at}/extensions/neon.credits", credits, g.max_money_drop, "npc money drop (credits)")
    for i, quest in enumerate(payload.get("quests") or ()):
        rewards = quest.get("rewards") or {}
        _over(
            out,
            f"/quests/{i}/rewards/credits",
            int(rewards.get("credits", 0)),
            g.max_money_drop,
            "quest reward (credits)",
        )
        _over(out, f"/quests/{i}/rewards/xp", int(rewards.get("xp", 0)), g.max_quest_xp, "quest reward (xp)")
    if proposal.type in (ProposalType.WORLD_EXPANSION, ProposalType.BUILDING):
        existing = set(proposal.dependencies)
        new_rooms = [r for r in payload.get("rooms") or () if r.get("id") not in existing]
        if len(new_rooms) > g.max_rooms_per_expansion:
            out.append(
                Violation(
                    "too_many_rooms",
                    "/rooms",
                    len(new_rooms),
                    g.max_rooms_per_expansion,
                    f"{len(new_rooms)} new rooms, over the limit of {g.max_rooms_per_expansion}",
                )
            )


def _check_words(proposal: Proposal, g: Guardrails, out: list[Violation]) -> None:
    texts = list(_texts(proposal.payload, ""))
    in_payload = dict(texts)
    # a flavour text is checked where it differs from the payload's (an enrich stage's rewrite)
    texts += [(f"flavour:{p}", t) for p, t in sorted(proposal.flavour.items()) if in_payload.get(p) != t]
    texts.append(("summary", proposal.summary))
    terms = default_banned_terms() | {fold_word(w) for w in g.banned_words}
    themes = [(t, key) for t in g.banned_themes if (key := _theme_key(t))]
    tags = [*proposal.tags, *(str(t) for obj in _objects(proposal.payload) for t in obj.get("tags") or ())]
    tag_runs = [letter_runs(t) for t in tags]
    for theme, key in themes:
        if any(_has_theme(runs, key) for runs in tag_runs):
            out.append(
                Violation(
                    "banned_theme", "/tags", theme, "banned_themes", f"tagged with the banned theme {theme!r}"
                )
            )
    for path, text in texts:
        for term in find_banned_terms(text, terms):
            out.append(
                Violation("banned_word", path, term, "banned_words", f"banned word {term!r} in {path or '/'}")
            )
        runs = letter_runs(text)
        for theme, key in themes:
            if _has_theme(runs, key):
                out.append(
                    Violation(
                        "banned_theme", path, theme, "banned_themes", f"banned theme {theme!r} in {path}"
                    )
                )


def check(
    proposal: Proposal,
    guardrails: Guardrails,
    *,
    history: RarityHistory | None = None,
    content: Mapping[str, Any] | None = None,
) -> list[Violation]:
    """Every guardrail ``proposal`` breaks (empty: it may go on), numbers first, then words, then
    the invariants the proposal names, then the legendary rate over ``history`` (skipped when no
    history is given). The map invariants (``CONTENT_INVARIANTS``) need the ``content`` the
    proposal grows into (the active content, as ``generate`` takes it) and are skipped without it;
    ``refs_resolve`` checks the proposal is self-contained (every reference added or a declared
    dependency) and, with ``content``, that every dependency exists there."""
    violations: list[Violation] = []
    _check_numbers(proposal, guardrails, violations)
    _check_words(proposal, guardrails, violations)
    from ouroboros.ai.generators.invariants import invariant_problems  # generators import this module

    violations += [
        Violation("invariant_broken", path, message.split(":")[0], "invariants", message)
        for path, message in invariant_problems(proposal, content)
    ]
    if history is not None:
        legendary = [
            i for i, it in enumerate(proposal.payload.get("items") or ()) if it.get("rarity") == "legendary"
        ]
        if legendary:
            total = history.count("legendary") + len(legendary)
            if total > guardrails.max_legendary_per_100:
                violations.append(
                    Violation(
                        "legendary_rate",
                        f"/items/{legendary[0]}/rarity",
                        total,
                        guardrails.max_legendary_per_100,
                        f"{total} legendary items in the last {HISTORY_WINDOW} generations, over the "
                        f"limit of {guardrails.max_legendary_per_100}",
                    )
                )
    return violations


def enforce(
    proposal: Proposal,
    guardrails: Guardrails,
    *,
    history: RarityHistory | None = None,
    content: Mapping[str, Any] | None = None,
) -> Proposal:
    """``proposal`` unchanged, or ``GuardrailError`` with every violation."""
    violations = check(proposal, guardrails, history=history, content=content)
    if violations:
        raise GuardrailError(violations)
    return proposal


# --- the file -------------------------------------------------------------------------------------


def parse_guardrails(data: Any) -> Guardrails:
    """``data`` (decoded JSON) as ``Guardrails``, or ``BadInputError`` naming the first problem."""
    if not isinstance(data, Mapping):
        raise BadInputError("guardrails must be a JSON object", code="bad_guardrails")
    try:
        return Guardrails.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "/".join(str(p) for p in first["loc"]) or "/"
        raise BadInputError(
            f"guardrails: {where}: {first['msg']}", code="bad_guardrails", path=where
        ) from None


class GuardrailsFile:
    """``<data>/guardrails.json``: the guardrails an operator edits while the world runs.

    A missing file means the defaults. ``current()`` rereads the file when its mtime or size
    changed; a file that does not parse keeps the last good guardrails and sets ``last_error``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._good = Guardrails()
        self._seen: tuple[int, int] | None = None
        self.last_error: str | None = None

    def current(self) -> Guardrails:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            if self._seen is not None:
                self._seen = None
                self.last_error = f"{self.path} is gone; keeping the last good guardrails"
            return self._good
        key = (stat.st_mtime_ns, stat.st_size)
        if key == self._seen:
            return self._good
        self._seen = key
        try:
            data = json.loads(self.path.read_bytes().decode("utf-8"))
            self._good = parse_guardrails(data)
            self.last_error = None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, BadInputError) as exc:
            self.last_error = f"{self.path}: {exc}; keeping the last good guardrails"
        return self._good

    def write(self, data: Mapping[str, Any]) -> Guardrails:
        """Validate ``data`` (raises ``BadInputError``), then replace the file atomically."""
        guardrails = parse_guardrails(data)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, canonical_bytes(guardrails.as_dict()))
        stat = self.path.stat()
        self._good, self._seen, self.last_error = guardrails, (stat.st_mtime_ns, stat.st_size), None
        return guardrails
