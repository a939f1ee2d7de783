"""Player commands: one line in, events out. ``run(world, player, line)`` never raises for any
line; what it cannot understand gets a short helpful answer.

Commands run at a tick boundary (they arrive as the ``neon.command`` input), so they may spawn and
despawn directly, and every effect is part of the replayable input log.
"""

from __future__ import annotations

from collections.abc import Callable

from ouroboros.engine import World
from ouroboros.worlds.neon import actions, economy, experience, quests
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.city import (
    display_name,
    emit,
    find,
    item_data,
    item_id,
    items_held,
    items_in_room,
    matches,
    npc_data,
    npc_id,
    npcs_in,
    online_names,
    player_name,
    players_in,
    roll,
    room_of,
    slots,
    spawn_item,
    state,
    tell,
    tell_room,
)
from ouroboros.worlds.neon.words import credits, render_line

MAX_TEXT = 300
PROTECTED_KINDS = frozenset({"vendor", "fixer"})
WEAPON_SLOTS = frozenset({"main_hand", "off_hand"})
DIRECTION_WORDS = {**{d: d for d in tb.DIRECTIONS}, **{v: k for k, v in tb.DIRECTION_NAMES.items()}}
ALIASES = {"l": "look", "i": "inventory", "inv": "inventory", "k": "attack", "kill": "attack",
           "'": "say", ":": "emote", "sc": "score", "?": "help", "q": "quest", "equip": "wear",
           "inspect": "look", "examine": "look", "x": "look", "exa": "look"}  # fmt: skip

Handler = Callable[[World, int, str], None]
HELP: dict[str, str] = {}
HANDLERS: dict[str, Handler] = {}


def command(name: str, usage: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        HELP[name] = usage
        return fn

    return register


def clean(text: str) -> str:
    """Printable text only, one line, at most ``MAX_TEXT`` characters."""
    return "".join(ch for ch in text if ch.isprintable()).strip()[:MAX_TEXT]


def run(world: World, player: int, line: str) -> None:
    """Answer one line, then the prompt (health and money) the player types after."""
    line = clean(line)
    if not line:
        return
    _answer(world, player, line)
    if world.is_alive(player) and world.get(player, "Player")["online"]:
        prompt(world, player)


def prompt(world: World, player: int) -> None:
    a, p = world.get(player, "Actor"), world.get(player, "Player")
    text = f"<{a['hp']}/{a['max_hp']}hp {p['credits']}cr>"
    emit(world, player_name(world, player), {"type": "prompt", "text": text})


def _answer(world: World, player: int, line: str) -> None:
    if line[0] in "':" and len(line) > 1 and line[1] != " ":
        line = f"{line[0]} {line[1:]}"
    verb, _, rest = line.partition(" ")
    verb = ALIASES.get(verb.lower(), verb.lower())
    waiting = world.get(player, "Player")["revive_at"] - world.tick
    if waiting > 0 and verb not in ("quit", "help", "who", "score", "say"):
        hz = tb.tables(world).params["tick_hz"]
        tell(world, player, f"You are still coming round in the vat ({-(-waiting // hz)} s).", "error")
        return
    rest = rest.strip()
    if verb == "go":
        verb, rest = (rest.lower(), "") if rest else ("go", "")
    if verb in DIRECTION_WORDS:
        if _fighting(world, player):
            tell(world, player, "You are fighting! Try 'flee'.", "error")
            return
        actions.move(world, player, DIRECTION_WORDS[verb])
        return
    handler = HANDLERS.get(verb)
    if handler is None:
        tell(world, player, f"Unknown command '{verb[:20]}'. Type 'help' for the list.", "error")
        return
    handler(world, player, rest)


def _fighting(world: World, player: int) -> bool:
    return world.get(player, "Actor")["target"] != 0


def _vendor_here(world: World, player: int) -> int | None:
    for npc in npcs_in(world, room_of(world, player)):
        if npc_data(world, npc).get("stock"):
            return npc
    return None


# -- looking and talking -------------------------------------------------------------------------------
@command("look", "look [THING]: the room, or a closer look at someone or something")
def look(world: World, player: int, rest: str) -> None:
    if not rest:
        actions.describe_room(world, player)
        return
    room = room_of(world, player)
    t = tb.tables(world)
    npc = find(world, npcs_in(world, room), rest)
    if npc is not None:
        data = npc_data(world, npc, t)
        a = world.get(npc, "Actor")
        health = "unhurt" if a["hp"] >= a["max_hp"] else f"hurt ({a['hp']}/{a['max_hp']})"
        kind = data["kind"].replace("_", " ")
        tell(world, player, f"{data['name']}, a level {data.get('level', 1)} {kind}, {health}.")
        return
    item = find(world, items_held(world, player) + items_in_room(world, room), rest)
    if item is not None:
        data = item_data(world, item, t)
        iid = item_id(world, item)
        tell(world, player, describe_item(data, t.price(iid) if iid in t.items else data["price"]))
        return
    other = find(world, [p for p in players_in(world, room) if p != player], rest)
    if other is not None:
        a = world.get(other, "Actor")
        tell(world, player, f"{display_name(world, other)}, a runner ({a['hp']}/{a['max_hp']} hp).")
        return
    vendor = _vendor_here(world, player)
    if vendor is not None:
        stock = [i for i in npc_data(world, vendor, t)["stock"] if i in t.items]
        choice = next((i for i in stock if matches(t.items[i]["name"], rest)), None)
        if choice is not None:
            tell(world, player, describe_item(t.items[choice], t.price(choice), on_sale=True))
            return
    tell(world, player, f"You see no '{rest[:40]}' here.", "error")


def _dialogue_values(name: str, data: dict, job: str | None, t: tb.Tables) -> dict[str, str]:
    """The placeholders' words: the runner, the speaker, and ``job`` (the speaker's best job for
    the runner, else its first) with its pay."""
    pay = t.quests[job].get("rewards", {}).get("credits", 0) if job else 0
    return {
        "{player.name}": name,
        "{player}": name,
        "{npc.name}": str(data["name"]),
        "{quest.name}": str(t.quests[job]["name"]) if job else "nothing yet",
        "{credits}": str(pay) if job else "no",
    }


def describe_item(data: dict, worth: int, *, on_sale: bool = False) -> str:
    """What ``look``/``inspect`` says of an item, held, on the ground or on a vendor's shelf."""
    stats = ", ".join(f"{k} {v}" for k, v in data.get("stats", {}).items() if v)
    extras = data.get("extensions", {})
    if extras.get(tb.ITEM_CRIT):
        stats += f"{', ' if stats else ''}crit {extras[tb.ITEM_CRIT] / 10:g}%"
    if extras.get(tb.ITEM_PROCS):
        stats += f"{', ' if stats else ''}procs {'/'.join(extras[tb.ITEM_PROCS])}"
    price = f"for sale here at {credits(worth)}" if on_sale else f"worth {credits(worth)}"
    text = f"{data['name']} ({data.get('rarity', 'common')} {data['kind']}), {price}."
    if stats:
        text += f" {stats}."
    if data.get("kind") == "consumable" and data.get("stats", {}).get("heal"):
        text += " ('use' it to heal.)"
    if data.get("description"):
        text += f"\n{data['description']}"
    return text


@command("say", "say TEXT: speak to everyone in the room (also: 'TEXT)")
def say(world: World, player: int, rest: str) -> None:
    if not rest:
        tell(world, player, "Say what?", "error")
        return
    name = player_name(world, player)
    tell(world, player, f'You say, "{rest}"', "say")
    tell_room(world, room_of(world, player), f'{name} says, "{rest}"', "say", exclude=(player,))


@command("emote", "emote TEXT: act something out (also: :TEXT)")
def emote(world: World, player: int, rest: str) -> None:
    if not rest:
        tell(world, player, "Emote what?", "error")
        return
    tell_room(world, room_of(world, player), f"{player_name(world, player)} {rest}", "emote")


@command("who", "who: the runners in the city now")
def who(world: World, player: int, rest: str) -> None:
    names = sorted(online_names(world))
    tell(world, player, f"{len(names)} runner(s) online: " + ", ".join(names))


@command("talk", "talk NPC: talk to someone (fixers offer jobs)")
def talk(world: World, player: int, rest: str) -> None:
    npc = find(world, npcs_in(world, room_of(world, player)), rest) if rest else None
    if npc is None:
        tell(world, player, "Talk to whom?", "error")
        return
    t = tb.tables(world)
    data = npc_data(world, npc, t)
    actions.npc_event(world, npc, "talked_to")
    dialogue = t.dialogue.get(data.get("dialogue") or "")
    name = player_name(world, player)
    given = t.quests_by_giver.get(npc_id(world, npc), [])
    # this giver's jobs the runner may take, best fit first (what 'quest suggest' ranks)
    ranked = experience.suggestions(world, player, most=len(t.quests))
    fits = [s["quest"] for s in ranked if s["quest"] in given]
    if dialogue:
        seen = state(world)["talk"].setdefault(name, {})
        lines = {ln["id"]: ln for ln in dialogue["lines"]}
        at = seen.get(dialogue["id"], dialogue["lines"][0]["id"])
        line = lines.get(at, dialogue["lines"][0])
        values = _dialogue_values(name, data, fits[0] if fits else (given[0] if given else None), t)
        tell(world, player, f'{data["name"]} says, "{render_line(line["text"], values)}"', "say")
        nxt = line.get("next") or [dialogue["lines"][0]["id"]]
        seen[dialogue["id"]] = nxt[0]
    else:
        tell(world, player, f"{data['name']} has nothing to say to you.")
    offers = [q for q in given if quests.can_accept(world, player, q, t) is None]  # what 'quest list' offers
    if offers:
        best = fits[0] if fits else None
        names = ", ".join(t.quests[q]["name"] + (" (your best fit)" if q == best and len(offers) > 1 else "")
                          for q in offers)  # fmt: skip
        tell(world, player, f"Jobs on offer: {names}. ('quest accept NAME')", "quest")
    elif any(quests.status(world, player, q) != "done" for q in given):
        tell(world, player, f"{data['name']} has nothing for you yet. Come back with more to show.", "quest")


# -- things ---------------------------------------------------------------------------------------------
@command("inventory", "inventory: what you carry and wear, and your credits")
def inventory(world: World, player: int, rest: str) -> None:
    held = items_held(world, player)
    lines = []
    for item in held:
        worn = world.get(item, "Item")["worn"]
        lines.append(f"  {display_name(world, item)}{_in_use(item_data(world, item)) if worn else ''}")
    wallet = world.get(player, "Player")["credits"]
    body = "\n".join(lines) if lines else "  nothing"
    tell(world, player, f"You carry:\n{body}\nCredits: {wallet}")


def _in_use(data: dict) -> str:
    if data.get("slot") in WEAPON_SLOTS:
        return " (wielded)"
    return " (implanted)" if data.get("kind") == "implant" else " (worn)"


@command("get", "get ITEM | get all: pick something up")
def get(world: World, player: int, rest: str) -> None:
    room = room_of(world, player)
    here = items_in_room(world, room)
    chosen = here if rest.lower() == "all" else [i for i in [find(world, here, rest)] if i is not None]
    if not rest or not chosen:
        tell(world, player, "Get what?" if not rest else f"There is no '{rest[:40]}' here.", "error")
        return
    limit = tb.tables(world).params["max_carried_items"]
    for item in chosen:
        if len(items_held(world, player)) >= limit:
            tell(world, player, "You can't carry any more.", "error")
            break
        world.set(item, "Item", holder=player, room=-1)
        name = display_name(world, item)
        tell(world, player, f"You pick up {name}.", "loot")
        tell_room(world, room, f"{player_name(world, player)} picks up {name}.", exclude=(player,))
    quests.check(world, player)


@command("drop", "drop ITEM: put something down")
def drop(world: World, player: int, rest: str) -> None:
    item = find(world, items_held(world, player), rest) if rest else None
    if item is None:
        tell(world, player, "Drop what? (see 'inventory')", "error")
        return
    room = room_of(world, player)
    was_worn = world.get(item, "Item")["worn"]
    world.set(item, "Item", holder=0, room=room, worn=0)
    if was_worn:
        actions.recompute_gear(world, player)
    name = display_name(world, item)
    tell(world, player, f"You drop {name}.")
    tell_room(world, room, f"{player_name(world, player)} drops {name}.", exclude=(player,))


@command("give", "give ITEM to SOMEONE | give N credits to SOMEONE")
def give(world: World, player: int, rest: str) -> None:
    what, sep, whom = rest.rpartition(" to ")
    if not sep or not what.strip() or not whom.strip():
        tell(world, player, "Usage: give ITEM to SOMEONE, or give N credits to SOMEONE.", "error")
        return
    room = room_of(world, player)
    others = [p for p in players_in(world, room) if p != player]
    target = find(world, npcs_in(world, room) + others, whom.strip())
    if target is None:
        tell(world, player, f"There is no '{whom.strip()[:40]}' here.", "error")
        return
    words = what.split()
    if len(words) == 2 and words[0].isdigit() and words[1].lower() in ("credits", "credit", "cr"):
        _give_credits(world, player, target, int(words[0][:12]))
        return
    item = find(world, items_held(world, player), what.strip())
    if item is None:
        tell(world, player, f"You have no '{what.strip()[:40]}'.", "error")
        return
    name, to = display_name(world, item), display_name(world, target)
    if actions.is_player(world, target):
        world.set(item, "Item", holder=target, worn=0)
        actions.recompute_gear(world, player)
        tell(world, player, f"You give {name} to {to}.")
        tell(world, target, f"{player_name(world, player)} gives you {name}.", "loot")
        return
    iid, nid = item_id(world, item), npc_id(world, target)
    if not quests.wants_delivery(world, player, iid, nid):
        tell(world, player, f"{to} doesn't want {name}.", "error")
        return
    world.despawn([item])
    actions.recompute_gear(world, player)
    tell(world, player, f"You hand {name} to {to}.", "quest")
    quests.on_event(world, player, "deliver", iid, to=nid)


def _give_credits(world: World, player: int, target: int, amount: int) -> None:
    if not actions.is_player(world, target) or amount <= 0:
        tell(world, player, "You can give a positive number of credits to another runner.", "error")
        return
    verdict = economy.transact(world, player, "gift", -amount, to=target)
    if verdict.ok:
        tell(world, player, f"You give {credits(amount)} to {display_name(world, target)}.")
        tell(world, target, f"{player_name(world, player)} gives you {credits(amount)}.", "loot")
    elif verdict.outcome == "held":
        tell(world, player, f"The transfer is held for review: {verdict.reason}.", "system")
    else:
        tell(world, player, f"No transfer: {verdict.reason}.", "error")


@command("wear", "wear ITEM: put on armour or an implant (or wield a weapon)")
def wear(world: World, player: int, rest: str) -> None:
    _equip(world, player, rest, weapon=False)


@command("wield", "wield WEAPON: take a weapon in hand")
def wield(world: World, player: int, rest: str) -> None:
    _equip(world, player, rest, weapon=True)


def _equip(world: World, player: int, rest: str, *, weapon: bool) -> None:
    held = items_held(world, player)
    item = find(world, held, rest) if rest else None
    if item is None:
        tell(world, player, "Which item? (see 'inventory')", "error")
        return
    data = item_data(world, item)
    slot = data.get("slot")
    if slot is None or (weapon and slot not in WEAPON_SLOTS):
        tell(world, player, f"You can't {'wield' if weapon else 'wear'} {data['name']}.", "error")
        return
    if world.get(item, "Item")["worn"]:
        tell(world, player, f"You already use {data['name']}.", "error")
        return
    for other in held:
        if world.get(other, "Item")["worn"] and item_data(world, other).get("slot") == slot:
            world.set(other, "Item", worn=0)
            tell(world, player, f"You stop using {display_name(world, other)}.")
    world.set(item, "Item", worn=1)
    actions.recompute_gear(world, player)
    tell(world, player, f"You {'wield' if slot in WEAPON_SLOTS else 'wear'} {data['name']}.")
    actions.vitals(world, player)


@command("remove", "remove ITEM: stop wearing or wielding it")
def remove_item(world: World, player: int, rest: str) -> None:
    worn = [i for i in items_held(world, player) if world.get(i, "Item")["worn"]]
    item = find(world, worn, rest) if rest else None
    if item is None:
        tell(world, player, "You use no such thing.", "error")
        return
    world.set(item, "Item", worn=0)
    actions.recompute_gear(world, player)
    tell(world, player, f"You stop using {display_name(world, item)}.")


# -- trade ----------------------------------------------------------------------------------------------
@command("list", "list: what the vendor here sells")
def list_stock(world: World, player: int, rest: str) -> None:
    vendor = _vendor_here(world, player)
    if vendor is None:
        tell(world, player, "Nobody here sells anything.", "error")
        return
    t = tb.tables(world)
    data = npc_data(world, vendor, t)
    rows = [f"  {t.items[i]['name']:<32} {t.price(i):>7} cr" for i in data["stock"] if i in t.items]
    tell(world, player, f"{data['name']} sells:\n" + "\n".join(rows) + "\n('look ITEM' for a closer look)")


@command("buy", "buy ITEM: buy from the vendor here")
def buy(world: World, player: int, rest: str) -> None:
    vendor = _vendor_here(world, player)
    if vendor is None or not rest:
        tell(world, player, "Nobody here sells anything." if vendor is None else "Buy what?", "error")
        return
    t = tb.tables(world)
    stock = [i for i in npc_data(world, vendor, t)["stock"] if i in t.items]
    choice = next((i for i in stock if matches(t.items[i]["name"], rest)), None)
    if choice is None:
        tell(world, player, f"{display_name(world, vendor)} sells no '{rest[:40]}'. Try 'list'.", "error")
        return
    if len(items_held(world, player)) >= t.params["max_carried_items"]:
        tell(world, player, "You can't carry any more.", "error")
        return
    price = t.price(choice)
    verdict = economy.transact(world, player, "buy", -price, item=choice, market=t.items[choice]["price"])
    if not verdict.ok:
        _no_sale(world, player, verdict)
        return
    spawn_item(world, slots(world).slot("item", choice), holder=player)
    experience.bought(world, player, str(t.items[choice]["kind"]))
    tell(world, player, f"You buy {t.items[choice]['name']} for {credits(price)}.", "loot")
    actions.vitals(world, player)
    quests.check(world, player)


def _no_sale(world: World, player: int, verdict: economy.Verdict) -> None:
    held = verdict.outcome == "held"
    tell(world, player, f"{'The sale is held for review' if held else 'No sale'}: {verdict.reason}.", "error")


@command("sell", "sell ITEM: sell to the vendor here")
def sell(world: World, player: int, rest: str) -> None:
    vendor = _vendor_here(world, player)
    item = find(world, items_held(world, player), rest) if rest else None
    if vendor is None or item is None:
        tell(world, player, "Nobody here buys anything." if vendor is None else "Sell what?", "error")
        return
    if world.get(item, "Item")["worn"]:
        tell(world, player, "Remove it first.", "error")
        return
    t = tb.tables(world)
    iid = item_id(world, item)
    data = item_data(world, item, t)
    base = data["price"] * t.params["sell_permille"] // 1000
    price = t.sell_price(iid) if iid in t.items else base
    verdict = economy.transact(world, player, "sell", price, item=iid, market=base)
    if not verdict.ok:
        _no_sale(world, player, verdict)
        return
    world.despawn([item])
    tell(world, player, f"You sell {data['name']} for {credits(price)}.", "loot")
    actions.vitals(world, player)


# -- fighting -------------------------------------------------------------------------------------------
@command("attack", "attack NPC: start a fight (rounds every second)")
def attack(world: World, player: int, rest: str) -> None:
    room = room_of(world, player)
    target = find(world, npcs_in(world, room), rest) if rest else None
    if target is None:
        other = find(world, [p for p in players_in(world, room) if p != player], rest) if rest else None
        msg = "The city's code says no: runners don't fight runners here." if other else "Attack whom?"
        tell(world, player, msg, "error")
        return
    data = npc_data(world, target)
    if data["kind"] in PROTECTED_KINDS:
        tell(world, player, f"{data['name']} is under the guild's protection. Better not.", "error")
        return
    name = player_name(world, player)
    tell(world, player, f"You attack {data['name']}!", "combat")
    tell_room(world, room, f"{name} attacks {data['name']}!", "combat", exclude=(player,))
    actions.start_fight(world, player, target)


@command("flee", "flee: try to run out of a fight")
def flee(world: World, player: int, rest: str) -> None:
    room = room_of(world, player)
    exits = actions.exits_of(world, room)
    if not _fighting(world, player):
        tell(world, player, "You aren't fighting anyone.", "error")
        return
    if not exits or roll(world, "neon:flee", player, world.tick, 100) < 40:
        tell(world, player, "You can't get away!", "combat")
        return
    world.set(player, "Actor", target=0)
    tell(world, player, "You flee!", "combat")
    actions.move(world, player, exits[roll(world, "neon:flee-dir", player, world.tick, len(exits))])


# -- you ------------------------------------------------------------------------------------------------
@command("score", "score: your health, numbers and money")
def score(world: World, player: int, rest: str) -> None:
    a = world.get(player, "Actor")
    p = world.get(player, "Player")
    jobs = len(quests.active_jobs(world, player))
    name = player_name(world, player)
    body = f"damage {a['damage']}, armour {a['armour']}, accuracy {a['accuracy']}%"
    money = f"xp {p['xp']}, credits {p['credits']}, deaths {p['deaths']}, active jobs {jobs}"
    tell(world, player, f"{name}: {a['hp']}/{a['max_hp']} hp, {body}\n{money}")
    actions.vitals(world, player)


@command("quest", "quest [list | suggest | accept NAME | abandon NAME]: your jobs")
def quest(world: World, player: int, rest: str) -> None:
    t = tb.tables(world)
    sub, _, arg = rest.partition(" ")
    sub, arg = sub.lower() or "list", arg.strip()
    journal = quests.journal(world, player)
    if sub == "list":
        active = quests.active_jobs(world, player, t)
        done = [t.quests[q]["name"] for q, e in journal.items() if e["state"] == "done" and q in t.quests]
        givers = {npc_id(world, n) for n in npcs_in(world, room_of(world, player))}
        offers = [q for g in sorted(givers) for q in t.quests_by_giver.get(g, ())
                  if quests.can_accept(world, player, q, t) is None]  # fmt: skip
        if not active and not offers and not done:
            tell(world, player, "No jobs. Fixers around the city have work: 'talk' to them.", "quest")
        for q in active:
            quests.describe_progress(world, player, q)
        if offers:
            tell(world, player, "On offer here: " + ", ".join(t.quests[q]["name"] for q in offers), "quest")
        if done:
            tell(world, player, "Done: " + ", ".join(done), "quest")
        return
    if sub == "suggest":
        found = experience.suggestions(world, player)
        if not found:
            tell(world, player, "No job fits you right now; the city changes, ask again later.", "quest")
            return
        lines = [
            f"  {s['name']} (level {s['level']}) from {s['giver']} at {s['room']}, {s['steps']} steps away"
            for s in found
        ]
        tell(world, player, "Jobs that fit you, best first:\n" + "\n".join(lines), "quest")
        return
    if sub == "accept":
        givers = {npc_id(world, n) for n in npcs_in(world, room_of(world, player))}
        offered = [q for g in sorted(givers) for q in t.quests_by_giver.get(g, ())]
        choice = next((q for q in offered if arg and matches(t.quests[q]["name"], arg)), None)
        if choice is None:
            tell(
                world,
                player,
                "No such job on offer here. 'talk' to a fixer, then 'quest accept NAME'.",
                "error",
            )
            return
        why = quests.can_accept(world, player, choice, t)
        if why:
            tell(world, player, f"Not yet: {why}.", "error")
            return
        quests.accept(world, player, choice)
        return
    if sub == "abandon":
        choice = next((q for q, e in journal.items() if e["state"] == "active" and q in t.quests
                       and arg and matches(t.quests[q]["name"], arg)), None)  # fmt: skip
        if choice is None:
            tell(world, player, "You have no such job.", "error")
            return
        quests.abandon(world, player, choice)
        tell(world, player, f"Job abandoned: {t.quests[choice]['name']}.", "quest")
        return
    tell(world, player, "Usage: quest [list | suggest | accept NAME | abandon NAME]", "error")


@command("help", "help [COMMAND]: this list")
def help_(world: World, player: int, rest: str) -> None:
    topic = ALIASES.get(rest.lower(), rest.lower())
    if topic in HELP:
        tell(world, player, HELP[topic])
        return
    moves = "Moving: n s e w u d ne nw se sw in out (or 'go DIR')."
    tell(world, player, "Commands:\n" + "\n".join(f"  {HELP[k]}" for k in sorted(HELP)) + f"\n{moves}")


@command("quit", "quit: save and leave the city")
def quit_(world: World, player: int, rest: str) -> None:
    tell(world, player, "You jack out. See you in the rain.", "system")
    emit(world, player_name(world, player), {"type": "disconnect", "reason": "Connection closed."})


# these register their commands on import (use, consider; map)
from ouroboros.worlds.neon import maps, survival  # noqa: E402, F401
