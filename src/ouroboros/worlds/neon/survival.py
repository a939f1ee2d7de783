"""What keeps a runner alive: using consumables and sizing up a fight before it starts.

Registered on ``commands`` (imported there for its side effect). Like every command these run at a
tick boundary, so they despawn directly and every effect is in the replayable input log.
"""

from __future__ import annotations

from typing import Any

from ouroboros.engine import World
from ouroboros.worlds.neon import actions, experience
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.city import (
    display_name,
    find,
    item_data,
    items_held,
    npc_data,
    npcs_in,
    player_name,
    room_of,
    tell,
    tell_room,
)
from ouroboros.worlds.neon.commands import ALIASES, PROTECTED_KINDS, WEAPON_SLOTS, command

ALIASES.update({"eat": "use", "drink": "use", "inject": "use", "con": "consider"})


@command("use", "use ITEM: use a consumable — a stim pack or a meal heals you (also: eat, drink, inject)")
def use(world: World, player: int, rest: str) -> None:
    item = find(world, items_held(world, player), rest) if rest else None
    if item is None:
        tell(world, player, "Use what? (see 'inventory')", "error")
        return
    data = item_data(world, item)
    heal = int(data.get("stats", {}).get("heal", 0))
    if data["kind"] != "consumable" or heal <= 0:
        slot = data.get("slot")
        hint = f" Try '{'wield' if slot in WEAPON_SLOTS else 'wear'}'." if slot else ""
        tell(world, player, f"You can't use {data['name']} like that.{hint}", "error")
        return
    a = world.get(player, "Actor")
    gained = max(0, min(heal, int(a["max_hp"]) - int(a["hp"])))
    world.despawn([item])
    hp = int(a["hp"]) + gained
    world.set(player, "Actor", hp=hp)
    tell(world, player, f"You use {data['name']}: +{gained} hp ({hp}/{a['max_hp']} hp).", "loot")
    room = room_of(world, player)
    tell_room(world, room, f"{player_name(world, player)} uses {data['name']}.", exclude=(player,))
    actions.vitals(world, player)


def rounds_to_kill(attacker: Any, defender: Any) -> int | None:
    """Expected combat rounds for ``attacker`` to bring ``defender`` down (None: it never can),
    from the same numbers ``actions.hit`` rolls with: hit chance and mean damage."""
    chance = max(5, min(95, int(attacker["accuracy"]) - int(defender["armour"]) // 2))
    damage = int(attacker["damage"])
    if damage <= 0:
        return None
    mean_x2 = 2 * max(1, damage - int(defender["armour"]) // 4) + damage // 2  # the roll adds 0..damage//2
    per_round_x200 = chance * mean_x2  # hundredths of a hit × twice the damage
    return max(1, -(-int(defender["hp"]) * 200 // per_round_x200))


def verdict(yours: int | None, theirs: int | None) -> str:
    if yours is None and theirs is None:
        return "neither of you could hurt the other"
    if yours is None:
        return "you could not hurt them; walk away"
    if theirs is None:
        return "they could not hurt you"
    if yours * 2 <= theirs:
        return "an easy fight"
    if yours < theirs:
        return "you should win"
    if yours * 2 <= theirs * 3:
        return "a close fight; have a stim ready"
    return "they would likely kill you"


@command("consider", "consider NPC: how a fight with them would likely go (also: con)")
def consider(world: World, player: int, rest: str) -> None:
    npc = find(world, npcs_in(world, room_of(world, player)), rest) if rest else None
    if npc is None:
        tell(world, player, "Consider whom?", "error")
        return
    data = npc_data(world, npc)
    a, d = world.get(npc, "Actor"), world.get(player, "Actor")
    you = tb.player_level(int(world.get(player, "Player")["xp"]))
    mood = ", aggressive" if actions.hostile_to_players(data) else ""
    health = f"{a['hp']}/{a['max_hp']} hp"
    head = f"{display_name(world, npc)}: level {data.get('level', 1)}{mood}, {health}; you are level {you}."
    if data["kind"] in PROTECTED_KINDS:
        tell(world, player, f"{head} Under the guild's protection: not a fight to pick.")
        return
    yours, theirs = rounds_to_kill(d, a), rounds_to_kill(a, d)
    rounds = f" You'd need about {yours} round(s); they'd need about {theirs}." if yours and theirs else ""
    tell(world, player, f"{head} {verdict(yours, theirs).capitalize()}.{rounds}")


@command("profile", "profile: your record in the city — time played, deaths, jobs, what you buy and fight")
def profile(world: World, player: int, rest: str) -> None:
    s = experience.summary(world, player)
    bought = ", ".join(f"{k} {v}" for k, v in s["bought"].items()) or "nothing yet"
    fought = ", ".join(f"{k} {v}" for k, v in s["fought"].items()) or "nobody yet"
    tell(
        world,
        player,
        f"{s['name']}, level {s['level']} ({s['xp']} xp): {s['play_minutes']} min in the city, "
        f"{s['deaths']} death(s), {s['jobs_done']} job(s) done.\nBought: {bought}.\nTaken down: {fought}.",
    )


@command("feedback", "feedback TEXT: tell the city's keepers what you think (bugs, balance, ideas)")
def feedback(world: World, player: int, rest: str) -> None:
    if not rest:
        tell(world, player, "Feedback what? (feedback TEXT)", "error")
        return
    entry = experience.add_feedback(world, player, rest)
    tell(world, player, f"Thanks, runner — noted as {entry['category']}.", "system")
