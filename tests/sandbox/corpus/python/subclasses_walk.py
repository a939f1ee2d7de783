# expect: forbidden_name — walks __subclasses__() to os._wrap_close, reads /etc/passwd with os.open
# without gate: runtime — the escape reaches os, but seccomp (or RLIMIT_NOFILE) refuses the open
# ruff: noqa


class Escape(Trait):
    async def execute(self, entity):
        for cls in ().__class__.__base__.__subclasses__():
            if cls.__name__ == "_wrap_close":
                fd = cls.__init__.__globals__["open"]("/etc/passwd", 0)
                entity.thrust_x = len(cls.__init__.__globals__["read"](fd, 100))
