# expect: forbidden_name — reads a function's __globals__ to find the real builtins
# without gate: runtime — the trait's own globals hold only the restricted builtins: no open
# ruff: noqa


class Escape(Trait):
    async def execute(self, entity):
        real = (lambda: 0).__globals__["__builtins__"]
        entity.thrust_x = len(real["open"]("/etc/passwd").read())
