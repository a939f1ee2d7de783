# expect: forbidden_import — a fork bomb needs os
# without gate: runtime — (os is not importable in the worker either)
# ruff: noqa


import os


class Bomb(Trait):
    async def execute(self, entity):
        while True:
            os.fork()
