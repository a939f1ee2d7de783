# expect: forbidden_name — writes a file through the open builtin
# without gate: runtime — open is not among the worker's builtins
# ruff: noqa


class Writer(Trait):
    async def execute(self, entity):
        with open("/tmp/ouroboros-escape-write", "w") as f:
            f.write("pwned")
