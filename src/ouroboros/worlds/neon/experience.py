"""The player experience service of the seed "Autonomous AI Core", in the engine's way: what each
account does, kept as deterministic world state (so a replay or a fork knows it too), read by
commands (``profile``, ``quest suggest``, ``feedback``) and by the director's signals.

- A **profile** per account: play time (ticks online), deaths, jobs done, what they buy (by item
  kind) and what they fight (by npc kind).
- **Quest recommendations**: the jobs a runner may take now, best fit first (a level near theirs,
  a fixer near them); the fixer names the best fit when it offers jobs.
- **Feedback**: ``feedback TEXT`` is kept (the last ``FEEDBACK_KEPT``), with a category (bug,
  balance, content, praise, abuse) and a sentiment from -100 to 100, both from an offline lexicon.
- **Challenge**: ``challenge(world, player)`` says whether a runner is struggling or cruising;
  the director's signals turn that into proposals (an easier job, a tougher npc) that go through
  the pipeline — this module never edits a number.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from ouroboros.engine import World
from ouroboros.worlds.neon import quests
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.city import player_name, room_of, slots, state

FEEDBACK_KEPT = 500  # entries; older ones are dropped
FEEDBACK_MAX_CHARS = 300
STRUGGLING_DEATHS = 3  # deaths within CHALLENGE_WINDOW_TICKS
CRUISING_KILLS = 10  # kills with no death within the window
CHALLENGE_WINDOW_TICKS = 60 * 60 * 50  # an hour at neon's default 50 ticks a second
CATEGORIES = ("bug", "balance", "content", "praise", "abuse")

_WORD = re.compile(r"[a-z']+")
# what each category listens for (a word, or a two-word phrase); first match by weight wins
_CUES: dict[str, tuple[str, ...]] = {
    "abuse": ("idiot", "stupid", "moron", "hate you", "kill yourself", "shut up", "cheater", "harass"),
    "bug": ("bug", "broken", "crash", "crashed", "error", "stuck", "glitch", "freeze", "frozen", "lag",
            "doesn't work", "can't", "cannot", "wrong", "missing"),
    "balance": ("too hard", "too easy", "hard", "easy", "overpowered", "op", "underpowered", "nerf", "buff",
                "expensive", "cheap", "unfair", "died", "dies", "killed", "grind", "damage", "price"),
    "praise": ("love", "great", "awesome", "fun", "thanks", "thank", "amazing", "cool", "nice", "enjoy",
               "beautiful", "good"),
}  # fmt: skip
_POSITIVE = frozenset(("love", "great", "awesome", "fun", "thanks", "thank", "amazing", "cool", "nice",
                       "enjoy", "enjoyed", "beautiful", "good", "like", "best", "wow", "fair"))  # fmt: skip
_NEGATIVE = frozenset(("bug", "broken", "crash", "crashed", "error", "stuck", "hate", "bad", "boring",
                       "unfair", "annoying", "worst", "stupid", "idiot", "awful", "terrible", "lag",
                       "frozen", "wrong", "missing", "hard", "expensive", "died", "killed"))  # fmt: skip
_NEGATORS = frozenset(("not", "no", "never", "don't", "isn't", "wasn't"))


def profile(world: World, name: str) -> dict[str, Any]:
    profiles: dict[str, dict[str, Any]] = state(world).setdefault("profiles", {})
    return profiles.setdefault(
        name, {"online_ticks": 0, "since": None, "bought": {}, "fought": {}, "deaths": [], "kills": []}
    )


def session_started(world: World, player: int) -> None:
    profile(world, player_name(world, player))["since"] = world.tick


def session_ended(world: World, player: int) -> None:
    p = profile(world, player_name(world, player))
    if p["since"] is not None:
        p["online_ticks"] += world.tick - p["since"]
        p["since"] = None


def _recent(ticks: list[int], now: int) -> list[int]:
    return [t for t in ticks if now - t <= CHALLENGE_WINDOW_TICKS]


def bought(world: World, player: int, item_kind: str) -> None:
    counts = profile(world, player_name(world, player))["bought"]
    counts[item_kind] = counts.get(item_kind, 0) + 1


def fought(world: World, player: int, npc_kind: str) -> None:
    p = profile(world, player_name(world, player))
    p["fought"][npc_kind] = p["fought"].get(npc_kind, 0) + 1
    p["kills"] = [*_recent(p["kills"], world.tick)[-CRUISING_KILLS * 4 :], world.tick]


def died(world: World, player: int) -> None:
    p = profile(world, player_name(world, player))
    p["deaths"] = [*_recent(p["deaths"], world.tick)[-STRUGGLING_DEATHS * 4 :], world.tick]


def summary(world: World, player: int) -> dict[str, Any]:
    name = player_name(world, player)
    p = profile(world, name)
    online = p["online_ticks"] + (world.tick - p["since"] if p["since"] is not None else 0)
    hz = tb.tables(world).params["tick_hz"]
    done = sum(1 for e in quests.journal(world, player).values() if e["state"] == "done")
    xp = int(world.get(player, "Player")["xp"])
    return {
        "name": name,
        "level": tb.player_level(xp),
        "xp": xp,
        "play_minutes": online // (60 * hz),
        "deaths": int(world.get(player, "Player")["deaths"]),
        "jobs_done": done,
        "bought": dict(sorted(p["bought"].items())),
        "fought": dict(sorted(p["fought"].items())),
        "challenge": challenge(world, player),
    }


def challenge(world: World, player: int) -> str:
    """``struggling``, ``cruising`` or ``fine``, from the last hour's deaths and kills."""
    p = profile(world, player_name(world, player))
    deaths, kills = _recent(p["deaths"], world.tick), _recent(p["kills"], world.tick)
    if len(deaths) >= STRUGGLING_DEATHS:
        return "struggling"
    if not deaths and len(kills) >= CRUISING_KILLS:
        return "cruising"
    return "fine"


# -- feedback -----------------------------------------------------------------------------------
def classify(text: str) -> tuple[str, int]:
    """(category, sentiment in [-100, 100]) of a feedback text, from the offline lexicon."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    category = "content"
    for name in ("abuse", "bug", "balance", "praise"):
        if any((f" {cue} " in f" {' '.join(words)} ") for cue in _CUES[name]):
            category = name
            break
    score = 0
    for i, w in enumerate(words):
        sign = -1 if i and words[i - 1] in _NEGATORS else 1
        if w in _POSITIVE:
            score += sign
        elif w in _NEGATIVE:
            score -= sign
    hits = sum(1 for w in words if w in _POSITIVE or w in _NEGATIVE)
    return category, (score * 100 // hits if hits else 0)


def add_feedback(world: World, player: int, text: str) -> dict[str, Any]:
    text = text[:FEEDBACK_MAX_CHARS]
    category, sentiment = classify(text)
    entry = {
        "tick": world.tick,
        "player": player_name(world, player),
        "room": slots(world).id_of("room", room_of(world, player)),
        "text": text,
        "category": category,
        "sentiment": sentiment,
    }
    kept: list[dict[str, Any]] = state(world).setdefault("feedback", [])
    kept.append(entry)
    del kept[:-FEEDBACK_KEPT]
    return entry


def feedback_view(world: World, limit: int = 50) -> dict[str, Any]:
    """What the dashboard shows: the newest ``limit`` entries first, counts per category, mean."""
    kept = state(world).get("feedback", [])
    kpis = feedback_kpis(world)
    return {
        "entries": [dict(e) for e in reversed(kept[-limit:])] if limit > 0 else [],
        "by_category": {c: kpis[f"feedback_{c}"] for c in CATEGORIES},
        "sentiment_mean": kpis["feedback_sentiment_mean"],
        "total": kpis["feedback_total"],
    }


def feedback_kpis(world: World) -> dict[str, Any]:
    kept = state(world).get("feedback", [])
    by = {f"feedback_{c}": sum(1 for e in kept if e["category"] == c) for c in CATEGORIES}
    mean = sum(e["sentiment"] for e in kept) // len(kept) if kept else 0
    return {**by, "feedback_sentiment_mean": mean, "feedback_total": len(kept)}


# -- quest recommendations ----------------------------------------------------------------------
def _distances(t: tb.Tables, start: str) -> dict[str, int]:
    seen = {start: 0}
    todo = deque([start])
    while todo:
        here = todo.popleft()
        for target in t.rooms.get(here, {}).get("exits", {}).values():
            if target in t.rooms and target not in seen:
                seen[target] = seen[here] + 1
                todo.append(target)
    return seen


def suggestions(world: World, player: int, most: int = 3) -> list[dict[str, Any]]:
    """The jobs ``player`` may take now, best fit first: level nearest theirs, then the nearest
    fixer, then by id (so the order is the same on every replay)."""
    t = tb.tables(world)
    level = tb.player_level(int(world.get(player, "Player")["xp"]))
    far = _distances(t, slots(world).id_of("room", room_of(world, player)))
    found = []
    for qid, quest in t.quests.items():
        if quests.can_accept(world, player, qid, t) is not None:
            continue
        giver = t.npcs.get(quest["giver"])
        if giver is None:
            continue
        steps = far.get(giver["spawn_room"], 1 << 20)
        found.append((abs(quests.quest_level(qid, t) - level), steps, qid, giver))
    found.sort(key=lambda f: (f[0], f[1], f[2]))
    return [
        {"quest": qid, "name": t.quests[qid]["name"], "giver": g["name"],
         "room": t.rooms[g["spawn_room"]]["name"], "level": quests.quest_level(qid, t), "steps": steps}
        for _, steps, qid, g in found[:most]
    ]  # fmt: skip
