# expect: forbidden_name — reaches os through a match class pattern to stat files of the host
# without gate: runtime — no host path resolves in the worker (an empty root, and seccomp refuses every path syscall)
# without gate message: contained
# ruff: noqa


class Peek(Trait):
    async def execute(self, entity):
        match Trait.execute:
            case object(__globals__=g):
                pass
        os = g["os"]
        refused, seen = [], []
        for path in ("/etc/passwd", "/proc/1/status", "/tmp", g["__file__"], "."):
            try:
                os.stat(path)
            except Exception as exc:  # OSError is not among a trait's builtins
                refused.append(f"{path}: {exc}")
                continue
            if path != ".":  # the empty root itself may be there; nothing else may
                seen.append(path)
        try:
            os.listdir(".")
        except Exception as exc:
            refused.append(f"listdir: {exc}")
        else:
            seen.append("listdir")
        if seen:
            raise RuntimeError(f"ESCAPED: {seen}")
        raise RuntimeError(f"contained: {refused}")
