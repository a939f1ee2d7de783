# expect: forbidden_name — creates a file with os.open reached by a subclass walk
# without gate: runtime — openat is refused by seccomp (RLIMIT_FSIZE=0 and RLIMIT_NOFILE=3 back it)
# ruff: noqa


class Writer(Trait):
    async def execute(self, entity):
        for cls in ().__class__.__base__.__subclasses__():
            if cls.__name__ == "_wrap_close":
                g = cls.__init__.__globals__
                fd = g["open"]("/tmp/ouroboros-escape-write2", 65 | 512)
                g["write"](fd, b"pwned")
