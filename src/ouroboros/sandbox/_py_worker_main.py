"""The child side of the Python-trait worker: a stdlib-only script, run as its own interpreter.

Started by ``python_worker`` as ``python -P -s -S _py_worker_main.py`` with a minimal environment
(``PYTHONHASHSEED=0`` so set order is the same in every worker) and an empty temporary cwd. It
imports nothing of ouroboros. Before any trait code runs it locks itself in, in this order, and
reports which steps held (``protections`` in its hello frame); steps 2-6 are
``_py_worker_lockin.py``, loaded by its path with the other imports:

1. pre-imports everything it and the traits may need (no file is opened afterwards);
2. ``unshare`` of user (unless root), pid, mount and network namespaces (``userns``, ``pidns``,
   ``mntns``, ``netns``; the network namespace alone where that is all the machine allows);
   behind a pid namespace it forks: the parent stays outside as a reaper (it sends the host a
   ``{"forked": pid}`` frame first, then waits and exits the way the worker did) and the child,
   pid 1 of a namespace where no other process has a number, carries on in a session of its own;
3. a read-only empty tmpfs over the cwd and ``chroot`` into it (``empty_tmpfs``, ``chroot``):
   no host path resolves;
4. rlimits: ``RLIMIT_CPU`` (soft re-armed per call, hard = the worker's lifetime), ``RLIMIT_AS``,
   ``RLIMIT_FSIZE=0``, ``RLIMIT_NOFILE`` = 3 (only the pipes on 0/1/2), ``RLIMIT_NPROC=0``,
   ``RLIMIT_CORE=0``;
5. when started as root, drops to ``nobody``; then every capability (``no_capabilities``), arms
   ``PR_SET_PDEATHSIG`` again (a change of ids clears it) and sets ``PR_SET_NO_NEW_PRIVS``;
6. a seccomp **allow-list**: memory, read/write/close on its pipes, clocks, its own ids and
   limits (``prlimit64`` on pid 0 only); every other syscall fails with ``EPERM`` — no path, no
   socket, no fork or exec, no signal, trace, limit or read of any other process.

Protocol (both ways): frames of ``>II`` (JSON header length, payload length), the JSON header,
then the payload. A batch payload is the entity fields as little-endian int64 columns in
``ENTITY_FIELDS`` order; the reply payload is ``thrust_x``, ``thrust_y``, ``energy_gain``.

Trait code runs with a small builtins table (no ``open``, ``eval``, ``getattr``, ``id``, …); its
imports get public-only copies of the allowed modules, and ``random`` is a ``random.Random``
reseeded from the batch's seed before every batch, so draws are a function of the world's keyed
stream, never of the process.
"""

from __future__ import annotations

import array
import builtins
import collections
import collections.abc
import contextlib
import ctypes  # noqa: F401  (held for the lock-in: an escaped trait finds it here, as the corpus shows)
import dataclasses
import enum
import functools
import gc
import itertools
import json
import math
import os
import random
import resource
import signal  # noqa: F401  (likewise: every module the child holds is imported before the lock)
import struct
import sys
import types
import typing

ENTITY_FIELDS = (
    "id", "x", "y", "vx", "vy", "energy", "max_energy", "thrust",
    "food_count", "food_dx", "food_dy", "crowd_count", "crowd_dx", "crowd_dy",
)  # fmt: skip
INTENT_FIELDS = ("thrust_x", "thrust_y", "energy_gain")
_HEADER = struct.Struct(">II")
_CO_COROUTINE = 0x80
_MAX_TEXT = 400


class Entity:
    """One molbot as a trait sees it: plain ints to read, three intents to set (or return
    ``(thrust_x, thrust_y[, energy_gain])`` from ``execute``). Batch-wide values such as
    ``temperature`` are class attributes, read-only from an instance."""

    __slots__ = (*ENTITY_FIELDS, *INTENT_FIELDS)

    def __init__(
        self, id: int, x: int, y: int, vx: int, vy: int, energy: int, max_energy: int, thrust: int,
        food_count: int, food_dx: int, food_dy: int, crowd_count: int, crowd_dx: int, crowd_dy: int,
    ) -> None:  # fmt: skip
        self.id = id
        self.x = x
        self.y = y
        self.vx = vx
        self.vy = vy
        self.energy = energy
        self.max_energy = max_energy
        self.thrust = thrust
        self.food_count = food_count
        self.food_dx = food_dx
        self.food_dy = food_dy
        self.crowd_count = crowd_count
        self.crowd_dx = crowd_dx
        self.crowd_dy = crowd_dy
        self.thrust_x = 0
        self.thrust_y = 0
        self.energy_gain = 0


class Trait:
    """The base a trait derives from: ``async def execute(self, entity)`` per molbot."""

    name = ""

    async def execute(self, entity: Entity) -> typing.Any:
        return None


class SeededRandom(random.Random):
    """``random.Random`` that never seeds from the OS: ``seed()``/``Random()`` mean seed 0."""

    def __init__(self, x: typing.Any = 0) -> None:
        super().__init__(x)

    def seed(self, a: typing.Any = 0, version: int = 2) -> None:
        super().seed(0 if a is None else a, version)


SeededRandom.Random = SeededRandom  # type: ignore[attr-defined]


# What a trait never gets from an allowed module, with the gate or without it: whatever turns a
# string built at run time into code or into an attribute access. typing.get_type_hints (and
# ForwardRef) evaluates string annotations, and functools.singledispatch calls it;
# functools.update_wrapper/wraps read and copy attributes by name; make_dataclass makes
# attributes of any name. typing is handed out from an allow-list of type names instead.
_WITHHELD = {
    "functools": frozenset(
        {"singledispatch", "singledispatchmethod", "update_wrapper", "wraps", "WRAPPER_ASSIGNMENTS",
         "WRAPPER_UPDATES"}
    ),
    "dataclasses": frozenset({"make_dataclass", "FunctionType"}),  # a function from any code object
}  # fmt: skip
_TYPING_NAMES = frozenset(
    {
        "Annotated", "Any", "AbstractSet", "AnyStr", "AsyncIterable", "AsyncIterator", "Awaitable",
        "Callable", "ClassVar", "Collection", "Concatenate", "Container", "Coroutine", "Counter",
        "DefaultDict", "Deque", "Dict", "Final", "FrozenSet", "Generic", "Hashable", "ItemsView",
        "Iterable", "Iterator", "KeysView", "List", "Literal", "LiteralString", "Mapping", "MappingView",
        "MutableMapping", "MutableSequence", "MutableSet", "NamedTuple", "Never", "NewType", "NoReturn",
        "NotRequired", "Optional", "OrderedDict", "ParamSpec", "Protocol", "Required", "Reversible", "Self",
        "Sequence", "Set", "Sized", "SupportsAbs", "SupportsFloat", "SupportsIndex", "SupportsInt",
        "SupportsRound", "Text", "Tuple", "Type", "TypeAlias", "TypeGuard", "TypeVar", "TypedDict", "Union",
        "ValuesView", "TYPE_CHECKING", "assert_never", "assert_type", "cast", "final", "get_origin",
        "overload", "runtime_checkable",
    }
)  # fmt: skip


def _public_copy(module: types.ModuleType, name: str) -> types.ModuleType:
    """What a trait's ``import`` gets: the public, non-module names of an allowed module, less
    what ``_WITHHELD`` names (for ``typing``: only ``_TYPING_NAMES``)."""
    copy = types.ModuleType(name)
    withheld = _WITHHELD.get(name, frozenset())
    for key, value in vars(module).items():
        if key.startswith("_") or isinstance(value, types.ModuleType) or key in withheld:
            continue
        if name == "typing" and key not in _TYPING_NAMES:
            continue
        setattr(copy, key, value)
    return copy


_MODULES = {
    m.__name__: _public_copy(m, m.__name__)
    for m in (math, dataclasses, typing, enum, collections, functools, itertools)
}
_MODULES["collections.abc"] = _public_copy(collections.abc, "collections.abc")
_MODULES["collections"].abc = _MODULES["collections.abc"]  # type: ignore[attr-defined]

_SAFE_BUILTIN_TEXT = (
    "abs all any ascii bin bool bytearray bytes callable chr classmethod complex dict divmod "
    "enumerate filter float format frozenset hash hex int isinstance issubclass iter len list map "
    "max min next object oct ord pow property range repr reversed round set slice sorted "
    "staticmethod str sum super tuple type zip __build_class__ True False None NotImplemented "
    "Ellipsis ArithmeticError AssertionError AttributeError BaseException Exception IndexError "
    "KeyError LookupError NotImplementedError OverflowError RuntimeError StopIteration "
    "StopAsyncIteration TypeError ValueError ZeroDivisionError RecursionError MemoryError "
    "SystemExit KeyboardInterrupt GeneratorExit"
)
_SAFE_BUILTINS = {name: getattr(builtins, name) for name in _SAFE_BUILTIN_TEXT.split()}


def _no_print(*args: object, **kwargs: object) -> None:
    """Traits have no stdout (it carries the protocol); ``print`` is accepted and dropped."""


def _builtins_for(rng: SeededRandom) -> dict[str, typing.Any]:
    def trait_import(
        name: str, globals: object = None, locals: object = None, fromlist: object = (), level: int = 0
    ) -> typing.Any:
        if level == 0 and name == "random":
            return rng
        module = _MODULES.get(name) if level == 0 else None
        if module is None:
            raise ImportError(f"import of {name!r} is not allowed")
        return module if fromlist else _MODULES[name.split(".")[0]]

    return {**_SAFE_BUILTINS, "__import__": trait_import, "print": _no_print}


# -- frames --------------------------------------------------------------------------------------


def _read_exact(n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(0, min(n, 1 << 20))
        if not chunk:
            os._exit(0)  # the host closed the pipe: nothing left to do
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_frame() -> tuple[dict[str, typing.Any], bytes]:
    head_len, payload_len = _HEADER.unpack(_read_exact(_HEADER.size))
    header = json.loads(_read_exact(head_len))
    return header, _read_exact(payload_len) if payload_len else b""


def _write_frame(header: dict[str, typing.Any], payload: bytes = b"") -> None:
    head = json.dumps(header).encode()
    data = memoryview(_HEADER.pack(len(head), len(payload)) + head + payload)
    while data:
        data = data[os.write(1, data) :]


# -- running traits ------------------------------------------------------------------------------


class Loaded:
    __slots__ = ("execute", "namespace", "rng")

    def __init__(self, execute: typing.Any, namespace: dict[str, typing.Any], rng: SeededRandom) -> None:
        self.execute = execute
        self.namespace = namespace
        self.rng = rng


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _arm_cpu(config: dict[str, typing.Any]) -> None:
    """Re-arm the soft CPU limit: this call may use ``cpu_seconds`` more (1 s granularity)."""
    hard = int(config["worker_cpu_seconds"])
    soft = min(hard, math.ceil(_cpu_seconds()) + int(config["cpu_seconds"]))
    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _fault(
    code: str, exc: BaseException | None = None, message: str = "", **extra: typing.Any
) -> dict[str, typing.Any]:
    if exc is not None:
        line = 0
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename.startswith("<trait"):
                line = tb.tb_lineno
            tb = tb.tb_next
        try:
            text = str(exc)[:_MAX_TEXT]
        except BaseException:
            text = "?"
        message = f"line {line}: {type(exc).__name__}: {text}"
    return {"ok": False, "code": code, "message": message[:_MAX_TEXT], **extra}


def _fault_for(exc: BaseException, **extra: typing.Any) -> dict[str, typing.Any]:
    if isinstance(exc, MemoryError):
        return _fault("memory", exc, **extra)
    if isinstance(exc, RecursionError):
        return _fault("recursion", exc, **extra)
    return _fault("runtime", exc, **extra)


def _load(scripts: dict[str, Loaded], header: dict[str, typing.Any]) -> dict[str, typing.Any]:
    key = str(header["key"])
    try:
        code = compile(str(header["source"]), f"<trait {key}>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return _fault("syntax", exc)
    rng = SeededRandom(0)
    namespace: dict[str, typing.Any] = {"__builtins__": _builtins_for(rng), "__name__": f"trait_{key}"}
    namespace["Trait"] = Trait
    try:
        exec(code, namespace)
        classes = [
            v for v in list(namespace.values())
            if isinstance(v, type) and issubclass(v, Trait) and v is not Trait
        ]  # fmt: skip
        if len(classes) != 1:
            return _fault("contract", message=f"exactly one Trait subclass is needed, found {len(classes)}")
        method = classes[0].__dict__.get("execute")
        if not isinstance(method, types.FunctionType) or not method.__code__.co_flags & _CO_COROUTINE:
            return _fault("contract", message="execute must be an 'async def' method")
        instance = classes[0]()
    except BaseException as exc:
        namespace.clear()
        return _fault_for(exc)
    scripts[key] = Loaded(instance.execute, namespace, rng)
    return {"ok": True}


def _intents(
    values: list[typing.Any], ids: typing.Sequence[int], field: str
) -> array.array[int] | dict[str, typing.Any]:
    try:
        return array.array("q", values)
    except (TypeError, OverflowError):
        pass
    clean = []
    for i, v in enumerate(values):
        if isinstance(v, float) and math.isfinite(v):
            v = int(v)
        if not isinstance(v, int):
            return _fault(
                "bad_result", message=f"{field} must be an int (got {type(v).__name__})", entity=ids[i]
            )
        if not -(1 << 63) <= v < (1 << 63):
            return _fault("bad_result", message=f"{field} is outside the int64 range", entity=ids[i])
        clean.append(v)
    return array.array("q", clean)


async def _drive(
    execute: typing.Any, columns: list[typing.Sequence[int]], intents: list[list[typing.Any]]
) -> typing.Any:
    """Run ``execute`` over every entity inside one coroutine: awaiting a trait's coroutine that
    completes without suspending raises no StopIteration, so this is about twice as fast as
    driving each one with ``send(None)``. Returns ``None``, or ``(index, error or bad type)``."""
    tx, ty, gain = intents
    i = 0
    try:
        for i, row in enumerate(zip(*columns, strict=True)):  # i is read after a suspension
            entity = Entity(*row)
            result = await execute(entity)
            if result is None:
                tx[i], ty[i], gain[i] = entity.thrust_x, entity.thrust_y, entity.energy_gain
            elif type(result) is tuple and 2 <= len(result) <= 3:
                tx[i], ty[i] = result[0], result[1]
                gain[i] = result[2] if len(result) == 3 else entity.energy_gain
            else:
                return i, type(result).__name__
    except BaseException as exc:
        return i, exc
    return None


def _run(
    loaded: Loaded, columns: list[typing.Sequence[int]], intents: list[list[typing.Any]]
) -> dict[str, typing.Any] | None:
    """One pass of the trait over the batch; the fault that stopped it, if any."""
    driver: types.CoroutineType[typing.Any, typing.Any, typing.Any] = _drive(loaded.execute, columns, intents)  # type: ignore[assignment]
    try:
        driver.send(None)
    except StopIteration as stop:
        outcome = stop.value
    else:  # a trait awaited something that suspends: refuse rather than park the worker
        frame = driver.cr_frame
        i = frame.f_locals.get("i", 0) if frame is not None else 0
        with contextlib.suppress(BaseException):
            driver.close()
        return _fault(
            "bad_result", message="execute awaited something; it must not suspend", entity=columns[0][i]
        )
    if outcome is None:
        return None
    i, problem = outcome
    if isinstance(problem, BaseException):
        return _fault_for(problem, entity=columns[0][i])
    return _fault(
        "bad_result", message=f"execute returned {problem}, not None or a tuple", entity=columns[0][i]
    )


def _batch(
    scripts: dict[str, Loaded], header: dict[str, typing.Any], payload: bytes
) -> tuple[dict[str, typing.Any], bytes]:
    loaded = scripts.get(str(header["key"]))
    if loaded is None:
        return _fault("contract", message="script not loaded"), b""
    n = int(header["n"])
    if list(header["fields"]) != list(ENTITY_FIELDS) or len(payload) != 8 * n * len(ENTITY_FIELDS):
        return _fault("bad_result", message="batch does not match the entity layout"), b""
    if sys.byteorder == "little":  # iterate the received bytes in place: no lists, no copies
        flat: typing.Sequence[int] = memoryview(payload).cast("q")
    else:
        swapped = array.array("q", payload)
        swapped.byteswap()
        flat = swapped
    columns = [flat[n * k : n * (k + 1)] for k in range(len(ENTITY_FIELDS))]
    scalars = {str(k): int(v) for k, v in dict(header.get("scalars", {})).items()}
    for name, value in scalars.items():
        setattr(Entity, name, value)
    loaded.rng.seed(int(header["seed"]))
    intents: list[list[typing.Any]] = [[0] * n for _ in INTENT_FIELDS]
    try:
        fault = _run(loaded, columns, intents)
    finally:
        for name in scalars:
            if name in vars(Entity) and name not in Entity.__slots__:
                delattr(Entity, name)
    if fault is not None:
        return fault, b""
    out = []
    for field, values in zip(INTENT_FIELDS, intents, strict=True):
        packed = _intents(values, columns[0], field)
        if isinstance(packed, dict):
            return packed, b""
        if sys.byteorder != "little":
            packed.byteswap()
        out.append(packed.tobytes())
    return {"ok": True}, b"".join(out)


def _sibling(name: str) -> types.ModuleType:
    """A stdlib-only module next to this script, loaded by its path: this interpreter runs with
    ``-P -S``, so neither this folder nor the package is on ``sys.path``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(__file__), f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_LOCKIN = _sibling("_py_worker_lockin")  # loaded now, with the other imports, before any lock


def main() -> None:
    config, _ = _read_frame()
    held = _LOCKIN.lock_in(config, _write_frame)
    _write_frame({"ok": True, "protections": held, "pid": os.getpid()})
    scripts: dict[str, Loaded] = {}
    while True:
        header, payload = _read_frame()
        op = header.get("op")
        start = _cpu_seconds()
        _arm_cpu(config)
        out = b""
        if op == "load":
            reply = _load(scripts, header)
        elif op == "unload":
            loaded = scripts.pop(str(header["key"]), None)
            if loaded is not None:
                loaded.namespace.clear()
                del loaded
            gc.collect()
            reply = {"ok": True}
        elif op == "batch":
            reply, out = _batch(scripts, header, payload)
        else:
            reply = _fault("bad_result", message=f"unknown op {op!r}")
        reply["cpu_ms"] = int((_cpu_seconds() - start) * 1000)
        reply["cpu_total_ms"] = int(_cpu_seconds() * 1000)
        _write_frame(reply, out)


if __name__ == "__main__":
    main()
