# expect: forbidden_name — a fork bomb through os reached by a subclass walk
# without gate: runtime — fork/clone are refused by seccomp (and RLIMIT_NPROC=0 once not root)
# ruff: noqa


class Bomb(Trait):
    async def execute(self, entity):
        for cls in ().__class__.__base__.__subclasses__():
            if cls.__name__ == "_wrap_close":
                fork = cls.__init__.__globals__["fork"]
                while True:
                    fork()
