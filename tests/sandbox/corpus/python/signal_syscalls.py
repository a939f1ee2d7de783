# expect: forbidden_name — reaches ctypes through __globals__ to signal the host with raw syscalls
# without gate: runtime — seccomp refuses kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal
# ruff: noqa


class Signal(Trait):
    async def execute(self, entity):
        g = Trait.execute.__globals__
        ctypes, os = g["ctypes"], g["os"]
        libc = ctypes.CDLL(None, use_errno=True)
        host = os.getppid()
        # Signal 0 or a NULL siginfo: harmless where a syscall is allowed (0, EFAULT or EBADF),
        # EPERM only where seccomp refuses it. The first one that is not EPERM is reported.
        calls = [(62, host, 0), (200, host, 0), (234, host, host, 0), (129, host, 10, 0),
                 (297, host, host, 10, 0), (424, -1, 10, 0, 0)]
        for args in calls:
            result = libc.syscall(*args)
            errno = ctypes.get_errno()
            if result != -1 or errno != 1:
                raise RuntimeError(f"syscall {args[0]} was not refused: {result}, {os.strerror(errno)}")
        raise RuntimeError(f"every signal syscall refused: {os.strerror(1)}")
