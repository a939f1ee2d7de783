# expect: forbidden_import — importlib.import_module to load os by name
# without gate: runtime — the worker's import refuses importlib
# ruff: noqa


import importlib


class Sneak(Trait):
    async def execute(self, entity):
        entity.thrust_x = importlib.import_module("os").getpid()
