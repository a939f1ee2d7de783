# expect: forbidden_name — kills the worker with os._exit reached by a subclass walk
# without gate: worker_died — the host sees the worker exit, restarts it, and carries on
# ruff: noqa


class Quit(Trait):
    async def execute(self, entity):
        for cls in ().__class__.__base__.__subclasses__():
            if cls.__name__ == "_wrap_close":
                cls.__init__.__globals__["_exit"](3)
