"""Components of the neon city. Everything is an integer; names and text live in the content.

Rooms, items and npcs are referred to by a *slot*: their position in an append-only list of ids
in ``resources["neon"]`` (``room_ids``, ``item_ids``, ``npc_ids``), so a content change that
adds objects never renumbers the ones already in the world.
"""

from __future__ import annotations

from ouroboros.engine import Component

#: Where an actor stands (room slot).
Place = Component("Place", room="i4")
#: Combat numbers of a player or npc; ``damage``/``armour``/``accuracy`` include worn gear.
#: ``target`` is who it fights (0: nobody), ``attacker`` the last one who hit it.
Actor = Component(
    "Actor", hp="i4", max_hp="i4", damage="i4", armour="i4", accuracy="i4", target="i8", attacker="i8"
)
#: An npc: its content slot, behaviour state (index into the behaviour's sorted states), the tick
#: it entered that state, its home room slot and the tick it may next move.
Npc = Component("Npc", proto="i4", state="i4", since="i8", home="i4", next_move="i8")
#: A player character: handle (its name's slot in ``resources["neon"]["player_names"]``), online
#: flag, experience, credits, deaths, and the tick it comes out of the clinic vat after dying.
Player = Component("Player", handle="i4", online="i1", xp="i8", credits="i8", deaths="i4", revive_at="i8")
#: An item: content slot, who holds it (0: nobody), the room slot it lies in (-1: held), worn flag.
Item = Component("Item", proto="i4", holder="i8", room="i4", worn="i1")

ALL = (Place, Actor, Npc, Player, Item)
NPC = ("Actor", "Npc", "Place")
PLAYER = ("Actor", "Place", "Player")
ITEM = ("Item",)
