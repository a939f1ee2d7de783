"""Money in the city: every change of a player's credits goes through ``transact``, and the
economic guard that ``transact`` applies first.

The guard (after the seed "Autonomous AI Core"), all in ticks, never the wall clock:

- rate limits per player and kind of transaction (``trades_per_window`` per ``trade_window_ticks``):
  over it, the transaction is refused and the player told to slow down;
- anomalies: a buy or sell far off the market price (outside 1/4..4x), money appearing from
  nowhere (a reward or loot over what the content that pays it allows), a gift over
  ``gift_hold_credits``. Such a transaction is *held*: not applied, and recorded for review with
  its reason in ``state["held"]`` (the runtime also writes it to the audit table);
- every applied transaction counts as a source (rewards, loot, sales) or a sink (purchases, death
  penalties) of the money supply, which ``report`` sums every ``economy_report_ticks`` with the
  inflation of the supply since the last report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ouroboros.engine import World
from ouroboros.worlds.neon.city import player_name, state
from ouroboros.worlds.neon.tables import tables

SOURCES = frozenset({"reward", "loot", "sell"})
SINKS = frozenset({"buy", "penalty"})
TRANSFERS = frozenset({"gift"})
MAX_HELD_KEPT = 1_000
MAX_REPORTS_KEPT = 100


@dataclass(frozen=True)
class Verdict:
    outcome: str  # "applied" | "refused" | "held"
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "applied"


def transact(
    world: World,
    player: int,
    kind: str,
    credits: int,
    *,
    item: str | None = None,
    market: int | None = None,
    bound: int | None = None,
    to: int | None = None,
) -> Verdict:
    """Move ``credits`` (positive: to the player; for a gift, from ``player`` to ``to``).

    ``market`` is the market price of ``item`` for buys and sells; ``bound`` the most a source
    may pay under its content. Returns what happened; nothing changes unless it is applied."""
    t = tables(world)
    p = t.params
    neon = state(world)
    name = player_name(world, player)
    recent = neon["guard"].setdefault(f"{name}:{kind}", [])
    recent[:] = [tick for tick in recent if world.tick - tick < p["trade_window_ticks"]]
    if kind in ("buy", "sell", "gift") and len(recent) >= p["trades_per_window"]:
        return Verdict("refused", f"too many {kind}s: at most {p['trades_per_window']} per "
                       f"{p['trade_window_ticks']} ticks")  # fmt: skip
    amount = abs(credits)
    reason = ""
    if market is not None and market > 0 and not market // 4 <= amount <= market * 4:
        reason = f"price {amount} is far off the market price {market} of {item}"
    elif kind in SOURCES and kind != "sell" and bound is not None and amount > bound:
        reason = f"{kind} of {amount} credits is over the {bound} its content allows"
    elif kind == "gift" and amount > p["gift_hold_credits"]:
        reason = f"a gift of {amount} credits is over the review threshold {p['gift_hold_credits']}"
    if reason:
        held = neon["held"]
        held.append({"tick": world.tick, "player": name, "kind": kind, "credits": credits,
                     "item": item, "reason": reason})  # fmt: skip
        del held[:-MAX_HELD_KEPT]
        neon["economy"]["held_total"] += 1
        return Verdict("held", reason)
    wallet = world.get(player, "Player")
    if kind in SINKS | TRANSFERS and wallet["credits"] < amount:
        return Verdict("refused", f"you have {wallet['credits']} credits, not {amount}")
    recent.append(world.tick)
    economy = neon["economy"]
    if kind == "gift":
        if to is None:
            raise ValueError("a gift needs a receiver")
        world.set(player, "Player", credits=wallet["credits"] - amount)
        other = world.get(to, "Player")
        world.set(to, "Player", credits=other["credits"] + amount)
        return Verdict("applied")
    world.set(player, "Player", credits=wallet["credits"] + credits)
    if credits > 0:
        economy["sources"] += credits
    else:
        economy["sinks"] += -credits
    return Verdict("applied")


def money_supply(world: World) -> int:
    total = 0
    for chunk in world.query("Player"):
        total += int(chunk["Player.credits"].sum())
    return total


def report(world: World) -> dict[str, Any]:
    """Sum the money supply now and the inflation since the last report; kept in the state."""
    economy = state(world)["economy"]
    supply = money_supply(world)
    last = economy["reports"][-1] if economy["reports"] else None
    previous = last["supply"] if last else economy["initial_supply"]
    inflation = (supply - previous) * 1000 // previous if previous > 0 else 0
    entry = {
        "tick": world.tick,
        "supply": supply,
        "inflation_permille": inflation,
        "sources": economy["sources"],
        "sinks": economy["sinks"],
        "held_total": economy["held_total"],
    }
    economy["reports"].append(entry)
    del economy["reports"][:-MAX_REPORTS_KEPT]
    return entry


def new_economy() -> dict[str, Any]:
    return {"sources": 0, "sinks": 0, "held_total": 0, "initial_supply": 0, "reports": []}
