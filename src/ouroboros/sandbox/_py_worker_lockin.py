"""How the Python-trait worker locks itself in (the child side, steps 2-6 of ``_py_worker_main``).

Stdlib only, like the child script that loads it by path before its first lock: unshare of the
user, pid, mount and network namespaces (and the fork behind a pid namespace: the parent stays
outside as a reaper), an empty read-only root, rlimits, ``nobody``, no capabilities, the parent
death signal, ``no_new_privs`` and a seccomp allow-list. ``lock_in`` returns the tags of the
steps that held; ``_py_worker_main`` reports them in its hello frame.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import struct
import typing
from collections.abc import Callable

_CLONE_NEWNS, _CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = 0x20000, 0x10000000, 0x20000000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 1, 2, 4, 8, 0x4000, 0x40000
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 1, 38, 22, 2

# The x86_64 syscalls a locked-in worker may make: memory, the pipes on 0/1/2, clocks, signals to
# itself through the kernel only, its own ids and limits. Everything else — opening or stat-ing
# any path, sockets, fork/exec, kill/tgkill/ptrace/process_vm_*/pidfd_*, prlimit on another pid,
# mounts, namespaces, keys, bpf, io_uring — fails with EPERM. ``prlimit64`` is allowed for pid 0
# (itself) only.
_ALLOWED_SYSCALLS_X86_64 = (
    0, 1, 3, 5, 8,  # read, write, close, fstat, lseek
    9, 10, 11, 12, 25, 28,  # mmap, mprotect, munmap, brk, mremap, madvise
    13, 14, 15, 131, 219,  # rt_sigaction, rt_sigprocmask, rt_sigreturn, sigaltstack, restart_syscall
    24, 35, 96, 201, 228, 229, 230,  # sched_yield, nanosleep, gettimeofday, time, clock_*
    39, 102, 104, 107, 108, 110, 186,  # getpid, getuid, getgid, geteuid, getegid, getppid, gettid
    97, 98, 160,  # getrlimit, getrusage, setrlimit (all three act on the caller only)
    60, 231, 202, 318, 334,  # exit, exit_group, futex, getrandom, rseq
)  # fmt: skip
_SYS_PRLIMIT64 = 302
_AUDIT_ARCH_X86_64 = 0xC000003E
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_KILL_PROCESS = 0x80000000
_SECCOMP_RET_ERRNO_EPERM = 0x00050000 | 1


def _install_seccomp(libc: typing.Any) -> bool:
    """An allow-list filter: ``_ALLOWED_SYSCALLS_X86_64``, ``prlimit64(0, …)``, else EPERM."""
    if os.uname().machine != "x86_64":
        return False

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    ld_abs, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, JGE|K, BPF_RET|K
    allow, deny = op(ret, _SECCOMP_RET_ALLOW), op(ret, _SECCOMP_RET_ERRNO_EPERM)
    prog = [op(ld_abs, 4), op(jeq, _AUDIT_ARCH_X86_64, 1, 0), op(ret, _SECCOMP_RET_KILL_PROCESS)]
    prog += [op(ld_abs, 0), op(jge, 0x40000000, 0, 1), deny]  # the x32 ABI: refused outright
    for nr in _ALLOWED_SYSCALLS_X86_64:
        prog += [op(jeq, nr, 0, 1), allow]
    # prlimit64(pid, …): only pid 0, the caller (seccomp_data.args[0], low word at offset 16).
    prog += [op(jeq, _SYS_PRLIMIT64, 0, 3), op(ld_abs, 16), op(jeq, 0, 0, 1), allow]
    prog.append(deny)
    code = ctypes.create_string_buffer(b"".join(prog))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.addressof(code))
    return bool(libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0)


def _unshare(libc: typing.Any, config: dict[str, typing.Any], held: list[str]) -> bool:
    """New pid, mount and network namespaces (inside a new user namespace unless root); the
    network namespace alone where that is all the machine allows. True: a pid namespace."""
    root = os.getuid() == 0
    net = _CLONE_NEWNET if config.get("netns", True) else 0
    user = 0 if root else _CLONE_NEWUSER
    if config.get("namespaces", True) and libc.unshare(user | _CLONE_NEWPID | _CLONE_NEWNS | net) == 0:
        held += [*(["userns"] if user else []), "pidns", "mntns", *(["netns"] if net else [])]
        return True
    if net and (libc.unshare(net) == 0 or libc.unshare(_CLONE_NEWUSER | net) == 0):
        held.append("netns")
    return False


def _become_pid_one(announce: Callable[[dict[str, typing.Any]], None]) -> int:
    """Fork into the new pid namespace. The parent stays outside as a reaper: it tells the host
    the worker's pid, waits for it and exits the way it did, so the host sees the worker's own
    status (a signal's number included); it never returns. The child returns as pid 1, with the
    read end of a pipe whose write end only the reaper holds (EOF: the reaper is gone)."""
    alive_r, alive_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(alive_w)
        os.setsid()  # a group of its own: kill(0, …) reaches nobody but itself
        os.read(alive_r, 1)  # the reaper has told the host our pid (or is gone: EOF)
        return alive_r
    os.close(alive_r)
    announce({"forked": child})
    os.write(alive_w, b"1")
    for fd in (0, 1, 2):
        os.close(fd)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
    elif os.WEXITSTATUS(status) == signal.SIGXCPU:  # the worker's SIGXCPU handler is _exit(24)
        sig = signal.SIGXCPU
    else:
        os._exit(os.WEXITSTATUS(status))
    with contextlib.suppress(OSError, ValueError):
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(128 + sig)


def _empty_root(libc: typing.Any, held: list[str]) -> None:
    """Chroot into the empty temporary cwd, under a read-only empty tmpfs where the mount
    namespace allows: no host path resolves afterwards."""
    cwd = os.getcwd().encode()
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) == 0:
        flags = _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
        if libc.mount(b"tmpfs", cwd, b"tmpfs", flags, b"size=4k,mode=0555") == 0:
            held.append("empty_tmpfs")
    if libc.chroot(cwd) == 0:
        os.chdir("/")
        held.append("chroot")


def _drop_capabilities(libc: typing.Any) -> bool:
    """No capability left, in any user namespace (capset with every set empty)."""
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()
    return bool(libc.syscall(126, header, data) == 0)  # SYS_capset on x86_64 and most others


def lock_in(config: dict[str, typing.Any], announce: Callable[[dict[str, typing.Any]], None]) -> list[str]:
    """Lock this process in as far as the machine allows; the tags of the steps that held.
    ``announce`` sends the host a frame (the reaper's ``{"forked": pid}``)."""
    held: list[str] = []
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # die with the host (or reaper)
    if os.getppid() != int(config["host_pid"]):
        os._exit(0)  # the host died before the death signal was armed
    alive_fd = None
    if _unshare(libc, config, held):
        alive_fd = _become_pid_one(announce)
        # pid 1 of a namespace ignores signals it has no handler for, SIGXCPU from its own CPU
        # limit included: exit at once, from C, with the signal's number (the reaper re-raises it).
        libc.signal.restype = ctypes.c_void_p
        libc.signal(signal.SIGXCPU, ctypes.cast(libc._exit, ctypes.c_void_p))
    if os.getuid() == 0 or "userns" in held:
        _empty_root(libc, held)
    cpu_hard = int(config["worker_cpu_seconds"])
    limits = {
        "rlimit_cpu": (resource.RLIMIT_CPU, (min(int(config["cpu_seconds"]), cpu_hard), cpu_hard)),
        "rlimit_as": (resource.RLIMIT_AS, (int(config["address_space_bytes"]),) * 2),
        "rlimit_fsize": (resource.RLIMIT_FSIZE, (0, 0)),
        "rlimit_nofile": (resource.RLIMIT_NOFILE, (3, 3)),
        "rlimit_nproc": (resource.RLIMIT_NPROC, (0, 0)),
        "rlimit_core": (resource.RLIMIT_CORE, (0, 0)),
    }
    for tag, (which, value) in limits.items():
        try:
            resource.setrlimit(which, value)
            held.append(tag)
        except (OSError, ValueError):
            pass
    if os.getuid() == 0:
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            held.append("uid_nobody")
        except OSError:
            pass
    if _drop_capabilities(libc):
        held.append("no_capabilities")
    # A change of uid or gid clears the death signal: arm it for good, then look once more.
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
        held.append("pdeathsig")
    if alive_fd is None:
        if os.getppid() != int(config["host_pid"]):
            os._exit(0)
    else:
        os.set_blocking(alive_fd, False)
        with contextlib.suppress(BlockingIOError):
            if not os.read(alive_fd, 1):
                os._exit(0)  # the reaper is gone
        os.close(alive_fd)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
        held.append("no_new_privs")
        if config.get("seccomp", True) and _install_seccomp(libc):
            held.append("seccomp")
    return held
