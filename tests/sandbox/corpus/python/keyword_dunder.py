# expect: forbidden_name — a keyword argument names a dunder (a string in the tree, not a Name or Attribute)
# ruff: noqa
from dataclasses import dataclass, replace


@dataclass
class Box:
    x: int = 0


class Swap(Trait):
    async def execute(self, entity):
        other = replace(Box(), __class__=Trait)
        entity.thrust_x = other.x
