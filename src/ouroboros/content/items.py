"""Items: what players carry, buy, wear, implant and use (neon), priced in integer credits."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ouroboros.content._base import Description, Extensible, Name, StrictModel, Tag, Tup
from ouroboros.content.limits import LIMITS

__all__ = ["ITEM_KINDS", "ITEM_SLOTS", "RARITIES", "Item", "ItemKind", "ItemSlot", "ItemStats", "Rarity"]

ItemKind = Literal["weapon", "armour", "implant", "consumable", "junk"]
Rarity = Literal["common", "uncommon", "rare", "epic", "legendary"]
ItemSlot = Literal[
    "head", "body", "hands", "legs", "feet", "main_hand", "off_hand", "neural", "optic", "limb"
]

ITEM_KINDS: tuple[str, ...] = ItemKind.__args__  # type: ignore[attr-defined]
RARITIES: tuple[str, ...] = Rarity.__args__  # type: ignore[attr-defined]
ITEM_SLOTS: tuple[str, ...] = ItemSlot.__args__  # type: ignore[attr-defined]


class ItemStats(StrictModel):
    """What an item adds to its holder; zero where it adds nothing."""

    damage: int = Field(default=0, ge=0, le=LIMITS.max_item_damage)
    armour: int = Field(default=0, ge=0, le=LIMITS.max_item_armour)
    accuracy: int = Field(default=0, ge=-LIMITS.max_item_accuracy_bonus, le=LIMITS.max_item_accuracy_bonus)
    heal: int = Field(default=0, ge=0, le=LIMITS.max_item_heal_hp)


class Item(Extensible):
    """An item. ``price`` is in credits; ``slot`` is where it is worn or implanted (null: carried)."""

    name: Name
    kind: ItemKind
    rarity: Rarity = "common"
    price: int = Field(ge=0, le=LIMITS.max_price_credits)
    slot: ItemSlot | None = None
    stats: ItemStats = Field(default_factory=ItemStats)
    description: Description | None = None
    tags: Annotated[Tup[Tag], Field(max_length=LIMITS.max_tags_per_object)] = ()
