# expect: forbidden_name — getattr with a computed name dodges the attribute checks
# without gate: runtime — getattr is not among the worker's builtins
# ruff: noqa


class Sneak(Trait):
    async def execute(self, entity):
        name = "_".join(["", "", "class", "", ""])
        entity.thrust_x = getattr(entity, name)
