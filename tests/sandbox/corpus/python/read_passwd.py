# expect: forbidden_name — reads /etc/passwd
# without gate: runtime — open is not among the worker's builtins
# ruff: noqa


class Reader(Trait):
    async def execute(self, entity):
        entity.thrust_x = len(open("/etc/passwd").read())
