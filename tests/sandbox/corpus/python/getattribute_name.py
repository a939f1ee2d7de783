# expect: forbidden_name — object.__getattribute__ with a name built at run time
# ruff: noqa


class Lookup(Trait):
    async def execute(self, entity):
        name = "_" * 2 + "class" + "_" * 2
        entity.thrust_x = len(str(object.__getattribute__(entity, name)))
