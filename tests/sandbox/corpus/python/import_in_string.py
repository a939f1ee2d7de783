# expect: forbidden_name — exec of a string that calls __import__('os')
# without gate: runtime — exec is not among the worker's builtins
# ruff: noqa


class Sneak(Trait):
    async def execute(self, entity):
        exec("__import__('os').system('touch /tmp/ouroboros-pwned')")
