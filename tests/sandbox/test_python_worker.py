"""Python traits in the isolated worker: the hostile corpus is contained with the right fault code
while the host and the other traits carry on; hot-swaps leave no ghosts; petri stays deterministic.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.engine import World
from ouroboros.errors import SandboxError
from ouroboros.sandbox import Fault, FaultCode, PythonTrait
from ouroboros.sandbox.python_gate import check_python_trait
from ouroboros.sandbox.python_worker import (
    ENTITY_FIELDS,
    PythonTraitLimits,
    PythonTraitWorker,
    _Stop,
    decode_reply,
)
from ouroboros.worlds.petri import PetriPlugin
from ouroboros.worlds.petri.traits import BUILTIN_TRAITS

CORPUS = sorted((Path(__file__).parent / "corpus" / "python").glob("*.py"))
# Deadlines short enough to keep the busy loops quick, long enough for a shared 2-core machine
# under load (a memory bomb needs ~0.5 s of wall clock to reach RLIMIT_AS at a load of 10).
LIMITS = PythonTraitLimits(
    batch_deadline_ms=1000, load_deadline_ms=1000, address_space_bytes=160 * 1024 * 1024
)

SEEK = """
import random


class SeekFood(Trait):
    async def execute(self, entity):
        if entity.food_count > 0:
            norm = abs(entity.food_dx) + abs(entity.food_dy) + 1
            entity.thrust_x = entity.food_dx * entity.thrust // norm
            entity.thrust_y = entity.food_dy * entity.thrust // norm
        entity.energy_gain = random.randint(0, 2) + entity.temperature // 100
"""


def batch(n: int = 5) -> dict[str, np.ndarray]:
    cols = {f: np.arange(n, dtype=np.int64) * (i + 1) for i, f in enumerate(ENTITY_FIELDS)}
    cols["food_count"] = np.ones(n, dtype=np.int64)
    cols["thrust"] = np.full(n, 1 << 16, dtype=np.int64)
    return cols


def expectations(path: Path) -> tuple[FaultCode, FaultCode | None]:
    text = path.read_text()
    first = re.match(r"# expect: (\w+) — \S", text)
    assert first, f"{path.name}: the first line must be '# expect: <code> — why'"
    without = re.search(r"^# without gate: (\w+) — \S", text, re.M)
    return FaultCode(first.group(1)), FaultCode(without.group(1)) if without else None


@pytest.fixture(scope="module")
def worker() -> Iterator[PythonTraitWorker]:
    with PythonTraitWorker(LIMITS) as w:
        assert w.load("seek", "1", SEEK) is None
        yield w


def assert_still_serves(worker: PythonTraitWorker) -> None:
    out, fault = worker.run_batch("seek", "1", batch(), seed=7, scalars={"temperature": 250})
    assert fault is None and out is not None
    assert out["thrust_x"].shape == (5,) and (out["energy_gain"] >= 2).all()


def run_source(worker: PythonTraitWorker, name: str, source: str, *, check: bool) -> Fault | None:
    fault = worker.load(name, "1", source, check=check)
    if fault is None:
        _, fault = worker.run_batch(name, "1", batch(3), seed=1)
        worker.unload(name, "1")
    return fault


def test_python_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 15
    passing = [p for p in CORPUS if not check_python_trait(p.read_text())]
    assert len(passing) >= 5, "some hostile traits must pass the gate to prove the worker limits"


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_python_corpus_is_contained_with_its_fault(worker: PythonTraitWorker, path: Path) -> None:
    expected, _ = expectations(path)
    source = path.read_text()
    gate = check_python_trait(source)
    fault = gate[0] if gate else run_source(worker, path.stem, source, check=True)
    assert fault is not None and fault.code is expected, fault
    assert_still_serves(worker)


@pytest.mark.parametrize("path", [p for p in CORPUS if expectations(p)[1]], ids=lambda p: p.stem)
def test_python_corpus_is_contained_by_the_worker_without_the_gate(
    worker: PythonTraitWorker, path: Path
) -> None:
    """Defence in depth: with the gate skipped, the worker's own limits still hold."""
    _, expected = expectations(path)
    fault = run_source(worker, path.stem, path.read_text(), check=False)
    assert fault is not None and fault.code is expected, fault
    why = re.search(r"^# without gate: \w+ — (.*)$", path.read_text(), re.M)
    if why and "seccomp" in why.group(1) and "seccomp" in worker.protections:
        assert "Operation not permitted" in fault.message, fault.message  # the kernel said no
    message = re.search(r"^# without gate message: (.*)$", path.read_text(), re.M)
    if message:
        assert message.group(1) in fault.message, fault.message
    assert_still_serves(worker)
    assert not list(Path("/tmp").glob("ouroboros-escape-*")), "an escape wrote a file"


@pytest.mark.parametrize(
    ("module", "name"),
    [("dataclasses", "FunctionType"), ("dataclasses", "make_dataclass"), ("functools", "update_wrapper"),
     ("typing", "get_type_hints")],
)  # fmt: skip
def test_python_worker_withholds_what_builds_code_or_reads_by_name(
    worker: PythonTraitWorker, module: str, name: str
) -> None:
    """Even past the gate, the modules a trait imports lack these names."""
    source = f"from {module} import {name}\n\n\n" + SEEK.replace("import random\n", "")
    fault = run_source(worker, f"withheld_{name}", source, check=False)
    assert fault is not None and fault.code is FaultCode.RUNTIME and "ImportError" in fault.message, fault


def test_python_worker_locks_itself_in(worker: PythonTraitWorker) -> None:
    held = set(worker.protections)
    assert {"rlimit_cpu", "rlimit_as", "rlimit_fsize", "rlimit_nofile", "rlimit_core"} <= held
    assert {"seccomp", "pidns"} & held, "nothing keeps the worker from addressing other processes"
    assert "no_capabilities" in held and "pdeathsig" in held
    if os.getuid() == 0:
        assert {"uid_nobody", "chroot"} <= held


def test_python_worker_cpu_limit_kills_a_busy_loop_the_deadline_would_not() -> None:
    limits = PythonTraitLimits(cpu_seconds=1, batch_deadline_ms=20_000)
    spin = "class Spin(Trait):\n    async def execute(self, entity):\n        while True:\n            pass\n"
    with PythonTraitWorker(limits) as w:
        assert w.load("spin", "1", spin) is None
        start = time.monotonic()
        out, fault = w.run_batch("spin", "1", batch(1), seed=0)
        assert out is None and fault is not None and fault.code is FaultCode.CPU_TIME
        assert time.monotonic() - start < 10


def test_python_worker_kill_from_outside_is_a_fault_then_a_fresh_worker(worker: PythonTraitWorker) -> None:
    pid, host_side = worker.worker_pid, worker.pid
    assert pid is not None and host_side is not None
    restarts = worker.restarts
    os.kill(pid, signal.SIGKILL)
    _, fault = worker.run_batch("seek", "1", batch(), seed=7, scalars={"temperature": 250})
    # Either the batch met the dead pipe, or the host saw the death first and restarted.
    assert fault is None or fault.code is FaultCode.WORKER_DIED
    assert_still_serves(worker)  # restarted, with its scripts reloaded
    assert worker.restarts == restarts + 1 and worker.pid != host_side and worker.worker_pid != pid


def test_python_worker_dies_with_the_process_the_host_started() -> None:
    """Behind a pid namespace the host starts a reaper that forks the worker: killing the reaper
    (as the host's own cleanup does) takes the worker with it."""
    with PythonTraitWorker(LIMITS) as w:
        assert w.load("seek", "1", SEEK) is None
        reaper, pid = w.pid, w.worker_pid
        assert reaper is not None and pid is not None
        if "pidns" in w.protections:
            assert pid != reaper
        os.kill(reaper, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and _state(pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not Path(f"/proc/{pid}").exists() or _state(pid) == "Z", "the worker outlived its reaper"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"


def test_python_worker_garbage_on_the_pipe_is_a_bad_result(worker: PythonTraitWorker) -> None:
    liar = (
        "class Liar(Trait):\n    async def execute(self, entity):\n"
        "        for c in ().__class__.__base__.__subclasses__():\n"
        "            if c.__name__ == '_wrap_close':\n"
        "                c.__init__.__globals__['write'](1, b'\\xff' * 64)\n"
        "                while True:\n                    pass\n"
    )
    fault = run_source(worker, "liar", liar, check=False)
    assert fault is not None and fault.code is FaultCode.BAD_RESULT
    assert_still_serves(worker)


def _json_values() -> st.SearchStrategy[object]:
    scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=30,
    )


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600) | _json_values().map(lambda v: json.dumps(v).encode()))
def test_a_reply_is_an_object_or_a_bad_result_never_an_exception(data: bytes) -> None:
    try:
        reply = decode_reply(data)
    except _Stop as stop:
        assert stop.fault.code is FaultCode.BAD_RESULT
    else:
        assert isinstance(reply, dict)


def test_a_forged_deep_reply_is_refused_before_decoding() -> None:
    for forged in (b"[" * 30_000 + b"]" * 30_000, b'{"a": ' * 20_000 + b"1" + b"}" * 20_000, b"[" * 60_000):
        with pytest.raises(_Stop) as stop:
            decode_reply(forged)
        assert stop.value.fault.code is FaultCode.BAD_RESULT and "deep" in stop.value.fault.message
    # brackets inside strings are text, not nesting
    assert decode_reply(b'{"message": "' + b"[" * 50_000 + b'", "ok": false}')["ok"] is False
    assert decode_reply(b'{"ok": true, "protections": ["seccomp"]}')["protections"] == ["seccomp"]


def test_python_worker_results_are_deterministic_and_seeded(worker: PythonTraitWorker) -> None:
    hot = {"temperature": 300}
    a, _ = worker.run_batch("seek", "1", batch(50), seed=123, scalars=hot)
    b, _ = worker.run_batch("seek", "1", batch(50), seed=123, scalars=hot)
    c, _ = worker.run_batch("seek", "1", batch(50), seed=124, scalars=hot)
    assert a is not None and b is not None and c is not None
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert (a["energy_gain"] >= 3).all()  # the batch-wide scalar reached every entity
    assert not np.array_equal(a["energy_gain"], c["energy_gain"])


def test_python_worker_takes_returned_intents_and_truncates_floats(worker: PythonTraitWorker) -> None:
    source = "class R(Trait):\n    async def execute(self, entity):\n        return (entity.x * 2, -1.9, 4)\n"
    assert worker.load("ret", "1", source) is None
    out, fault = worker.run_batch("ret", "1", batch(4), seed=0)
    worker.unload("ret", "1")
    assert fault is None and out is not None
    assert out["thrust_x"].tolist() == [0, 4, 8, 12]
    assert out["thrust_y"].tolist() == [-1] * 4 and out["energy_gain"].tolist() == [4] * 4


def test_python_worker_refuses_misuse_from_the_host(worker: PythonTraitWorker) -> None:
    with pytest.raises(SandboxError):
        worker.run_batch("nope", "1", batch(), seed=0)
    with pytest.raises(SandboxError):
        worker.run_batch("seek", "1", {"x": np.zeros(3, dtype=np.int64)}, seed=0)
    with pytest.raises(SandboxError):
        worker.load("a@b", "1", SEEK)


def test_python_worker_hot_swaps_leave_no_ghost_classes() -> None:
    """1,000 versions loaded and unloaded: the worker's RSS ends within 10% of its start."""
    template = SEEK + "\n\nclass Helper{v}:\n    table = {v}\n    tags = ('v{v}', {v})\n"

    with PythonTraitWorker(LIMITS) as w:

        def swap(v: int) -> None:
            assert w.load("swap", str(v), template.replace("{v}", str(v))) is None
            if v:
                w.unload("swap", str(v - 1))
            if v % 100 == 0:
                _, fault = w.run_batch("swap", str(v), batch(50), seed=v, scalars={"temperature": 1})
                assert fault is None

        for v in range(20):  # warm the allocator and the caches first
            swap(v)
        start = w.rss_bytes()
        for v in range(20, 1020):
            swap(v)
        end = w.rss_bytes()
        assert start is not None and end is not None and w.restarts == 0
        assert end <= start * 1.10, f"RSS grew from {start} to {end} bytes"
        assert w.loaded() == [("swap", "1019")]


# -- petri ---------------------------------------------------------------------------------------


def petri_world(trait: PythonTrait, seed: int = 4, entities: int = 120) -> World:
    return World(seed, plugins=[PetriPlugin(entities=entities, traits=(*BUILTIN_TRAITS, trait))])


def test_python_trait_in_petri_is_deterministic() -> None:
    digests = []
    for _ in range(2):
        trait = PythonTrait("py_seek", "1", SEEK, LIMITS)
        try:
            world = petri_world(trait)
            world.run(25)
            digests.append(world.digest())
            assert trait.faults == [] and not trait.disabled
        finally:
            trait.close()
    assert digests[0] == digests[1]


def test_python_trait_that_turns_hostile_faults_while_the_world_ticks() -> None:
    bomb = (CORPUS[0].parent / "memory_growth.py").read_text()
    with PythonTraitWorker(LIMITS) as shared:
        good = PythonTrait("py_seek", "1", SEEK, worker=shared)
        bad = PythonTrait("py_bomb", "1", bomb, worker=shared)
        world = World(4, plugins=[PetriPlugin(entities=120, traits=(*BUILTIN_TRAITS, good, bad))])
        world.run(6)
        assert world.tick == 6
        codes = [f.code for f in bad.faults]
        assert codes == [FaultCode.MEMORY] * 3 + [FaultCode.DISABLED] and bad.disabled
        assert good.faults == [] and not good.disabled


def test_python_trait_refused_by_the_gate_is_disabled_from_the_start() -> None:
    trait = PythonTrait("py_bad", "1", "import os\n")
    try:
        assert trait.disabled and trait.faults[0].code is FaultCode.FORBIDDEN_IMPORT
        assert trait.worker.pid is None  # no process was started for it
    finally:
        trait.close()


def test_a_wall_clock_fault_says_how_long_the_batch_ran(worker: PythonTraitWorker) -> None:
    spin = "class Spin(Trait):\n    async def execute(self, entity):\n        while True:\n            pass\n"
    assert worker.load("spin", "1", spin) is None
    try:
        _, fault = worker.run_batch("spin", "1", batch(1), seed=0)
    finally:
        worker.unload("spin", "1")
    assert fault is not None and fault.code is FaultCode.WALL_CLOCK
    assert fault.budget_used["wall_ms"] >= LIMITS.batch_deadline_ms
    assert_still_serves(worker)
