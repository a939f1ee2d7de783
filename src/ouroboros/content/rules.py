"""The number and word rules every machine-made change keeps: pure, below both the generators that
spend by them and the checks that hold changes to them (``ai.guardrails`` and the pipeline).

What it promises:

- ``Guardrails`` is frozen, strict data with defaults; every cap names its unit in its field
  description (credits, points, rooms, jobs per minute). Ratios are integers, never floats.
- Item power is counted by one rule, ``item_power`` (``POINT_COSTS``), which the item generator
  spends by and every check counts by, so they cannot disagree.
- ``check_numbers``, ``check_words`` and ``check_legendary_rate`` read plain content JSON (a patch's
  ``content``, a proposal's payload) and return every ``Violation`` with the number found and the
  limit broken; nothing here edits what it checks, reads a file or a clock.
- Banned words (the operator's list and the shipped ``banned_terms.txt``) are looked for in every
  text (any string with a space or a capital letter, and every ``name``, ``description``, ``text``
  and ``summary`` field); banned themes in the tags and as phrases in those texts, whatever
  separates the theme's words ("self-harm", "self_harm" and "selfharm" are all "self harm").
- ``check_content`` is the numbers gate the pipeline runs on every machine-made bundle.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ouroboros.content.text_checks import default_banned_terms, find_banned_terms, fold_word
from ouroboros.errors import BadInputError, GuardrailError

__all__ = [
    "CRIT_EXTENSION",
    "GLOBAL_PLAN",
    "HISTORY_WINDOW",
    "POINT_COSTS",
    "PROCS_EXTENSION",
    "PROPOSAL_TYPES",
    "RARITY_ORDER",
    "GuardrailError",
    "Guardrails",
    "Violation",
    "check_content",
    "check_legendary_rate",
    "check_numbers",
    "check_words",
    "item_power",
    "letter_runs",
    "parse_guardrails",
    "payload_texts",
    "plan_problem",
]

RARITY_ORDER: tuple[str, ...] = ("common", "uncommon", "rare", "epic", "legendary")
#: where an item keeps what the content schema has no field for (the city ignores them today)
CRIT_EXTENSION = "neon.crit_permille"
PROCS_EXTENSION = "neon.procs"
#: where an npc keeps the credits it drops
MONEY_EXTENSION = "neon.credits"
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
#: what a proposal may be (``ai.proposals.ProposalType``, whose values a test holds equal to these)
PROPOSAL_TYPES: tuple[str, ...] = ("NPC", "ITEM", "QUEST", "BUILDING", "EVENT", "WORLD_EXPANSION", "TRAIT")
#: a ``rollout_plans`` value that stages nothing: the change goes to everyone at once
GLOBAL_PLAN = "global"
#: a rollout plan's most stages (``rollout.plan.MAX_STAGES``; a property test holds both in step)
MAX_PLAN_STAGES = 20
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
    rollout_plans: dict[str, str] | None = Field(
        default=None,
        description="proposal type -> staged rollout plan (percent stages, '1,10,50,100') or 'global'; "
        "types not named keep the staging policy's default; null: staging off, every change at once",
    )

    @field_validator("rollout_plans")
    @classmethod
    def _plans_are_plans(cls, plans: dict[str, str] | None) -> dict[str, str] | None:
        for kind, text in (plans or {}).items():
            if kind not in PROPOSAL_TYPES:
                raise ValueError(f"{kind!r} is not a proposal type (one of {', '.join(PROPOSAL_TYPES)})")
            problem = plan_problem(text)
            if problem is not None:
                raise ValueError(f"{kind}: {problem}")
        return plans

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


_TEXT_KEYS = frozenset({"name", "description", "text", "summary"})


#: what holds code, not words (a script's source is no player's reading)
_CODE_KEYS = frozenset({"source"})


def _texts(value: Any, pointer: str, key: str = "") -> Iterator[tuple[str, str]]:
    if key in _CODE_KEYS:
        return
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


def payload_texts(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The texts of ``payload`` the word checks read, as ``(JSON pointer, text)`` pairs."""
    return list(_texts(payload, ""))


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


def _int(value: Any) -> int:
    """A number of the content (schema-checked where it matters); anything else counts as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(payload: Mapping[str, Any], domain: str) -> list[Mapping[str, Any]]:
    objects = payload.get(domain)
    return [o for o in objects if isinstance(o, Mapping)] if isinstance(objects, list | tuple) else []


def check_numbers(
    payload: Mapping[str, Any], g: Guardrails, *, known_rooms: Iterable[str] | None = None
) -> list[Violation]:
    """Every number of ``payload`` over its cap: weapon damage, armour, prices, each item's power
    against its rarity's budget, npc damage, hit points and money drops, quest rewards; and, with
    ``known_rooms`` (the rooms that exist already), how many new rooms it adds."""
    out: list[Violation] = []
    for i, item in enumerate(_list(payload, "items")):
        stats = _map(item.get("stats"))
        at = f"/items/{i}"
        if item.get("kind") == "weapon":
            _over(
                out, f"{at}/stats/damage", _int(stats.get("damage", 0)), g.max_weapon_damage, "weapon damage"
            )
        _over(out, f"{at}/stats/armour", _int(stats.get("armour", 0)), g.max_armor, "item armour")
        _over(out, f"{at}/price", _int(item.get("price", 0)), g.max_item_price, "item price (credits)")
        rarity = str(item.get("rarity", "common"))
        allowed = g.rarity_budget_points.get(rarity, 0)
        _over(out, at, item_power(item), allowed, f"power points of a {rarity} item")
    for i, npc in enumerate(_list(payload, "npcs")):
        at = f"/npcs/{i}"
        _over(out, f"{at}/damage", _int(npc.get("damage", 0)), g.max_npc_damage, "npc damage")
        _over(out, f"{at}/hp", _int(npc.get("hp", 0)), g.max_npc_hp, "npc hit points")
        extensions = _map(npc.get("extensions"))
        credits = extensions.get(MONEY_EXTENSION, 0)
        if isinstance(credits, int):
            _over(
                out,
                f"{at}/extensions/{MONEY_EXTENSION}",
                credits,
                g.max_money_drop,
                "npc money drop (credits)",
            )
    for i, quest in enumerate(_list(payload, "quests")):
        rewards = _map(quest.get("rewards"))
        at = f"/quests/{i}/rewards"
        _over(
            out, f"{at}/credits", _int(rewards.get("credits", 0)), g.max_money_drop, "quest reward (credits)"
        )
        _over(out, f"{at}/xp", _int(rewards.get("xp", 0)), g.max_quest_xp, "quest reward (xp)")
    if known_rooms is not None:
        existing = set(known_rooms)
        new_rooms = [r for r in _list(payload, "rooms") if r.get("id") not in existing]
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
    return out


def check_words(
    payload: Mapping[str, Any],
    g: Guardrails,
    *,
    texts: Iterable[tuple[str, str]] = (),
    tags: Iterable[str] = (),
) -> list[Violation]:
    """Every banned word and theme in the texts of ``payload`` and in ``texts`` (``(where, text)``
    pairs besides the payload: a summary, an enrich stage's flavour), and every banned theme in
    the payload's tags and in ``tags``."""
    out: list[Violation] = []
    checked = [*_texts(payload, ""), *texts]
    terms = default_banned_terms() | {fold_word(w) for w in g.banned_words}
    themes = [(t, key) for t in g.banned_themes if (key := _theme_key(t))]
    all_tags = [*tags, *(str(t) for obj in _objects(payload) for t in obj.get("tags") or ())]
    tag_runs = [letter_runs(t) for t in all_tags]
    for theme, key in themes:
        if any(_has_theme(runs, key) for runs in tag_runs):
            out.append(
                Violation(
                    "banned_theme", "/tags", theme, "banned_themes", f"tagged with the banned theme {theme!r}"
                )
            )
    for path, text in checked:
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
    return out


def check_legendary_rate(payload: Mapping[str, Any], g: Guardrails, legendary_before: int) -> list[Violation]:
    """The legendary rate: ``legendary_before`` legendary items among the last ``HISTORY_WINDOW``
    made, plus those ``payload`` adds, at most ``max_legendary_per_100``."""
    legendary = [i for i, it in enumerate(_list(payload, "items")) if it.get("rarity") == "legendary"]
    if not legendary:
        return []
    total = legendary_before + len(legendary)
    if total <= g.max_legendary_per_100:
        return []
    return [
        Violation(
            "legendary_rate",
            f"/items/{legendary[0]}/rarity",
            total,
            g.max_legendary_per_100,
            f"{total} legendary items in the last {HISTORY_WINDOW} generations, over the "
            f"limit of {g.max_legendary_per_100}",
        )
    ]


def check_content(
    content: Mapping[str, Any],
    g: Guardrails,
    *,
    known_rooms: Iterable[str] | None = None,
    legendary_before: int = 0,
) -> list[Violation]:
    """The numbers gate on a patch's content: numbers, words and the legendary rate, in that order."""
    return [
        *check_numbers(content, g, known_rooms=known_rooms),
        *check_words(content, g),
        *check_legendary_rate(content, g, legendary_before),
    ]


def plan_problem(text: object) -> str | None:
    """Why ``text`` is neither ``"global"`` nor a rollout plan's stages (``"1,10,50,100"``: percents
    over 0 and at most 100 in steps of 0.01, strictly increasing, ending at 100), or ``None``. The
    rule of ``rollout.plan.parse_stages`` and ``RolloutPlan``, kept here (below the rollout) so a
    guardrails file is checked whole where it is read; a property test holds the two in step."""
    if not isinstance(text, str) or not text.strip():
        return "a plan is comma-separated percentages, such as 1,10,50,100, or 'global'"
    if text.strip() == GLOBAL_PLAN:
        return None
    stages: list[int] = []
    for part in text.split(","):
        part = part.strip().removesuffix("%")
        try:
            value = float(part)
        except ValueError:
            return f"{part!r} is not a percentage"
        bp = round(value * 100) if 0 < value <= 100 else -1
        if bp <= 0 or abs(bp - value * 100) > 1e-6:
            return f"a stage must be over 0 and at most 100 percent in steps of 0.01, not {part}"
        if stages and bp <= stages[-1]:
            return f"a plan's stages must increase: {part} follows {stages[-1] / 100:g}"
        stages.append(bp)
    if len(stages) > MAX_PLAN_STAGES:
        return f"a plan has at most {MAX_PLAN_STAGES} stages, not {len(stages)}"
    if stages[-1] != 10_000:
        return f"a plan ends at 100 (everyone), not {stages[-1] / 100:g}"
    return None


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
