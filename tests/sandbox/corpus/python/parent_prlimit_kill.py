# expect: forbidden_name — a match class pattern reads the worker's module globals by a name the gate never saw as an attribute
# without gate: runtime — limiting, signalling, tracing or reading the host fails: the worker cannot address it
# without gate message: contained
# ruff: noqa
# The attack of issue 14: with the globals, resource.prlimit(host, RLIMIT_CPU, ...) killed a
# non-root host. Here the probes are harmless if they succeed (RLIMIT_CORE, signal 0); the
# isolation test runs them for real (RLIMIT_CPU, SIGKILL) against a host that is not root.


class Reach(Trait):
    async def execute(self, entity):
        match Trait.execute:
            case object(__globals__=g):
                pass
        os, resource, sys, ctypes = g["os"], g["resource"], g["sys"], g["ctypes"]
        frame = sys._getframe()
        while "config" not in frame.f_locals:  # main() holds the host's pid in its config
            frame = frame.f_back
        host = frame.f_locals["config"]["host_pid"]
        libc = ctypes.CDLL(None, use_errno=True)
        refused, escaped = [], []

        def attempt(what, call):
            try:
                result = call()
            except Exception as exc:  # OSError is not among a trait's builtins
                refused.append(f"{what}: {exc}")
                return
            if result == -1:
                refused.append(f"{what}: {os.strerror(ctypes.get_errno())}")
            else:
                escaped.append(what)

        buf = ctypes.create_string_buffer(8)
        local = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 8)
        remote = (ctypes.c_void_p * 2)(0x400000, 8)
        attempt("prlimit", lambda: resource.prlimit(host, resource.RLIMIT_CORE, (0, 0)))
        attempt("kill", lambda: os.kill(host, 0))
        attempt("kill -1", lambda: os.kill(-1, 0))
        attempt("ptrace", lambda: libc.ptrace(0x4206, host, 0, 0))  # PTRACE_SEIZE
        attempt("process_vm_readv", lambda: libc.process_vm_readv(host, local, 1, remote, 1, 0))
        attempt("pidfd_open", lambda: libc.syscall(434, host, 0))
        if escaped:
            raise RuntimeError(f"ESCAPED: {escaped}")
        raise RuntimeError(f"contained: {refused}")
