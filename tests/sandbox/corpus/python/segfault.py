# expect: forbidden_name — crashes the worker by reading a kernel address through ctypes
# without gate: worker_died — SIGSEGV kills the worker, never the host
# ruff: noqa


class Crash(Trait):
    async def execute(self, entity):
        for cls in ().__class__.__base__.__subclasses__():
            if cls.__name__ == "_wrap_close":
                ctypes = cls.__init__.__globals__["sys"].modules["ctypes"]
                ctypes.string_at(0xFFFFFFFFFFFF0000, 1)
