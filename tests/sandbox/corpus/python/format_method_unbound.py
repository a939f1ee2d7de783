# expect: forbidden_name — takes str.format of a string built at run time, to call it where the gate cannot look
# ruff: noqa


class Leak(Trait):
    async def execute(self, entity):
        u = "_" * 2
        fmt = ("{0." + u + "init" + u + "." + u + "globals" + u + "}").format
        entity.thrust_x = len(fmt(self))
