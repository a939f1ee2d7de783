"""Governance speed: rollback to full effect, stages 1-3 on a 100-object bundle, ledger verify.

- **rollback**: a live petri world (10,000 molbots) follows a data folder; we time the ledger
  transaction of ``rollback``, the follower noticing it, and the one tick after which the world
  runs the older version (checked: its parameters are the older version's). Goal: within one
  tick and under 10 ms (the seed asks for under 60 s).
- **stages 1-3**: on a neon data folder, everything the pipeline does before stage 4 with a signed
  bundle of 100 content objects (55 items, 40 rooms, 5 Lua scripts): integrity (hash, signature,
  lineage, expiry), schema, the fold and static lint against neon's base content, the world's own
  content check and the sandbox's check of every script. Goal: under 50 ms. Once per process the
  lint catalog is built from neon's base/ (453 rooms, ...): timed on its own, as is the
  reference world stages 4-5 fork (built outside the stage timing).
- **ledger verify**: recomputing the hash chain of a 10,000-entry ledger at open. Goal: 10,000
  entries per second or more.
- **head signing and the witness** (ADR 0011): what signing the head in every transaction, and
  appending it to a ``--witness`` file, costs a ledger transaction, a ``submit`` (four
  transactions and the stages) and a ``rollback`` — each timed with heads unsigned (the old
  behaviour), signed, and signed and witnessed. Goal: under 1 ms a transaction for signing.

Medians of ``--repeats`` runs. Writes benchmarks/results/governance.json (``--quick``: a few
repeats on small worlds, to check that it runs; its figures are not the README's).

    python benchmarks/bench_governance.py [--repeats 15] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ouroboros.cli.governance import default_engine_compat  # noqa: E402
from ouroboros.patches import (  # noqa: E402  # noqa: E402
    PointerFollower,
    State,
    catalogs,
    fold_content,
    new_bundle,
    sign_bundle,
    stages,
)
from ouroboros.patches.governor import Governor, sandbox_script_checker  # noqa: E402
from ouroboros.patches.ledger import Ledger  # noqa: E402
from ouroboros.worlds import build_world, spec_of  # noqa: E402

# the stages' tick budget is a wall-clock limit: on a busy machine it would refuse the very patches
# whose ledger costs are measured here, so it is lifted
FAST = {
    "warmup_ticks": 2,
    "determinism_ticks": 3,
    "shadow_ticks": 5,
    "canary_ticks": 3,
    "tick_budget_ms": 10_000,
}


def _activate(gov: Governor, doc: dict) -> None:
    verdict = gov.submit(doc)
    if verdict.state != State.ACTIVE:
        raise SystemExit(f"the benchmark's patch was not activated: {verdict.state} {verdict.reasons}")


def _bundle(gov: Governor, content: dict, key) -> dict:
    active = gov.active()
    seq = 0 if active is None else (gov.ledger.sequence_of(active) or 0) + 1
    doc = new_bundle(
        content,
        world=gov.world_name,
        parent_patch_id=active,
        sequence=seq,
        author={"type": "human", "model": None, "run_id": None},
        engine_compat=default_engine_compat(),
        ttl=timedelta(hours=1),
    )
    return sign_bundle(doc, key)


def _params(t: int, version: str) -> dict:
    return {
        "world_params": [
            {"id": "bench.t", "version": version, "world": "petri", "params": {"temperature": t}}
        ]
    }


def bench_rollback(repeats: int, entities: int) -> dict:
    folder = Path(tempfile.mkdtemp()) / "data"
    gov = Governor(
        folder,
        world_defaults={"world": "petri", "seed": 1, "config": {"entities": 200}, "budgets": FAST},
        environ={},
    )
    key = gov.new_key("op", ["*"])
    world = build_world("petri", 1, {"entities": entities})
    world.run(2)
    follower = PointerFollower(folder)
    tx_ms, notice_ms, total_ms, tick_ms = [], [], [], []
    version = 0
    for _ in range(repeats):
        for t in (24, 36):
            version += 1
            _activate(gov, _bundle(gov, _params(t, f"{version}.0.0"), key))
        follower.sync(world)
        world.step()
        assert world.resources["params"]["temperature"] == 36
        t0 = time.perf_counter()
        gov.rollback("bench", "benchmark rollback")
        t1 = time.perf_counter()
        synced = follower.sync(world)
        t2 = time.perf_counter()
        world.step()
        t3 = time.perf_counter()
        now = world.resources["params"]["temperature"]
        assert now == 24, f"rollback did not take effect: synced {synced}, {follower.refusal}, at {now}"
        tx_ms.append((t1 - t0) * 1e3)
        notice_ms.append((t2 - t1) * 1e3)
        tick_ms.append((t3 - t2) * 1e3)
        total_ms.append((t3 - t0) * 1e3)
    gov.close()
    follower.close()
    med = statistics.median
    return {
        "entities": entities,
        "ledger_transaction_ms": med(tx_ms),
        "follower_notice_ms": med(notice_ms),
        "tick_ms": med(tick_ms),
        "rollback_to_effect_ms": med(total_ms),
        "rollback_overhead_ms": med([a + b for a, b in zip(tx_ms, notice_ms, strict=True)]),
        "ticks_to_effect": 1,
    }


def _hundred_objects() -> dict:
    items = [
        {
            "id": f"bench.item.{i:03d}",
            "version": "1.0.0",
            "name": f"Item {i}",
            "kind": "junk",
            "rarity": "common",
            "price": 10 + i,
            "slot": None,
            "stats": {},
            "description": "A thing.",
            "tags": ["bench"],
        }
        for i in range(55)
    ]
    rooms = []
    for i in range(40):
        exits = {"e": f"bench.room.{i + 1:03d}"} if i < 39 else {}
        if i:
            exits["w"] = f"bench.room.{i - 1:03d}"
        rooms.append(
            {
                "id": f"bench.room.{i:03d}",
                "version": "1.0.0",
                "name": f"Street {i}",
                "description": "Neon rain on wet asphalt.",
                "zone": "bench",
                "district": "bench",
                "corp": None,
                "threat_level": 1,
                "coords": {"x": i, "y": 0, "level": 0},
                "exits": exits,
                "growth_point": False,
            }
        )
    lua = (
        "function act(ctx)\n  local total = 0\n  for i = 1, ctx.n do\n    total = total + i\n  end\n"
        "  return total\nend\n"
    )
    scripts = [
        {"id": f"bench.script.{i}", "version": "1.0.0", "language": "lua", "source": lua, "entry": "act"}
        for i in range(5)
    ]
    return {"items": items, "rooms": rooms, "scripts": scripts}


def bench_stages(repeats: int) -> dict:
    folder = Path(tempfile.mkdtemp()) / "data"
    gov = Governor(
        folder,
        world_defaults={"world": "neon", "seed": 1, "config": {}, "budgets": FAST},
        environ={},
    )
    key = gov.new_key("op", ["*"])
    content = _hundred_objects()
    assert sum(len(v) for v in content.values()) == 100
    doc = _bundle(gov, content, key)
    ring = gov.keyring()
    reference = gov.reference_world()  # stages 4-5 fork it; built once, outside the timing
    check_world = spec_of(reference).check_content
    names = ("integrity", "schema", "static", "world", "scripts", "total")
    times: dict[str, list[float]] = {name: [] for name in names}
    base_catalog_ms = []
    for _ in range(repeats):
        catalogs.base_content.cache_clear()  # as a fresh process (one CLI submit) finds it
        catalogs._base_catalog.cache_clear()
        t = time.perf_counter()
        catalogs.lint_catalog(gov.world_name, None)
        base_catalog_ms.append((time.perf_counter() - t) * 1e3)
    for _ in range(repeats):
        t0 = time.perf_counter()
        reasons, _ = stages.integrity(doc, ring, gov.ledger, gov.active())
        assert not reasons, reasons
        t1 = time.perf_counter()
        reasons, envelope = stages.schema(doc, gov.world_name)
        assert not reasons, reasons
        t2 = time.perf_counter()
        _, fold_reasons = fold_content(None, envelope.content)
        reasons = stages.static(envelope.content, catalogs.lint_catalog(gov.world_name, None), [], None)
        assert not reasons and not fold_reasons, reasons
        t3 = time.perf_counter()
        assert check_world(reference, doc["content"]) == []
        t4 = time.perf_counter()
        for script in envelope.content.scripts:
            assert not sandbox_script_checker(str(script.language), script.source, script.id, script.version)
        t5 = time.perf_counter()
        for name, value in zip(names, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0), strict=True):
            times[name].append(value * 1e3)
    verdict = gov.submit(doc, dry_run=True)  # the same bundle passes the whole pipeline too
    assert verdict.state == State.VALIDATED, verdict.reasons
    gov.close()
    return {
        "world": "neon",
        "objects": 100,
        **{f"{k}_ms": statistics.median(v) for k, v in times.items()},
        "base_catalog_once_ms": statistics.median(base_catalog_ms),
    }


def bench_ledger(entries: int, repeats: int) -> dict:
    folder = Path(tempfile.mkdtemp())
    ledger = Ledger(folder)
    per_tx = 100
    for i in range(entries // per_tx):
        with ledger.transaction("bench", "fill") as tx:
            for j in range(per_tx):
                tx.audit("bench", {"i": i, "j": j, "note": "an audit entry with a little evidence"})
    ledger.close()
    rates = []
    for _ in range(repeats):
        with Ledger(folder, verify=False) as opened:
            t0 = time.perf_counter()
            count = opened.verify()
            rates.append(count / (time.perf_counter() - t0))
    return {"entries": entries, "verify_entries_per_s": statistics.median(rates)}


def _anchored_governor(mode: str) -> tuple[Governor, Path]:
    root = Path(tempfile.mkdtemp())
    gov = Governor(
        root / "data",
        world_defaults={"world": "petri", "seed": 1, "config": {"entities": 60}, "budgets": FAST},
        environ={},
        witness=root / "witness.jsonl" if mode == "signed + witness" else None,
    )
    gov.new_key("op", ["*"])
    if mode == "unsigned":
        gov.ledger.head_signer = None
    return gov, root


def bench_anchors(repeats: int) -> dict:
    """Per mode: an empty audit transaction, a whole submit (to active) and a rollback. The modes
    take turns (one folder each), so a busy disk or CPU weighs on all three alike."""
    modes = ("unsigned", "signed", "signed + witness")
    govs = {mode: _anchored_governor(mode)[0] for mode in modes}
    times: dict[str, dict[str, list[float]]] = {m: {"tx": [], "submit": [], "rollback": []} for m in modes}
    for _ in range(repeats * 5):
        for mode, gov in govs.items():
            t0 = time.perf_counter()
            with gov.ledger.transaction("bench", "an audit") as tx:
                tx.audit("bench", {"n": 1})
            times[mode]["tx"].append((time.perf_counter() - t0) * 1e3)
    for version in range(repeats):
        for mode, gov in govs.items():
            key = gov.local_key("op")
            for t in (24, 36):
                doc = _bundle(gov, _params(t, f"{version}.{t}.0"), key)
                t0 = time.perf_counter()
                _activate(gov, doc)
                times[mode]["submit"].append((time.perf_counter() - t0) * 1e3)
            t0 = time.perf_counter()
            gov.rollback("bench", "benchmark rollback")
            times[mode]["rollback"].append((time.perf_counter() - t0) * 1e3)
    signing = govs["signed"]
    seq, digest = signing.ledger.head()
    t0 = time.perf_counter()
    for _ in range(1000):
        signing.anchoring.sign_head(seq, digest)
    sign_us = (time.perf_counter() - t0) * 1e3  # µs each: ms per 1000
    results: dict = {"sign_head_us": sign_us}
    for mode, gov in govs.items():
        signed = gov.ledger.signed_head()
        assert (signed is not None and signed[:2] == gov.ledger.head()) == (mode != "unsigned")
        gov.close()
        med = statistics.median
        results[mode] = {
            "transaction_ms": med(times[mode]["tx"]),
            "submit_ms": med(times[mode]["submit"]),
            "rollback_ms": med(times[mode]["rollback"]),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="3 repeats, small worlds: does it run?")
    parser.add_argument("--out", type=Path, default=None, help="JSON path")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.entities = 3, 1_000
    rollback = bench_rollback(args.repeats, args.entities)
    stage = bench_stages(args.repeats)
    ledger = bench_ledger(2_000 if args.quick else 10_000, max(3, args.repeats // 3))
    anchors = bench_anchors(args.repeats)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    rows = [
        ("rollback: ledger transaction", f"{rollback['ledger_transaction_ms']:.2f} ms", ""),
        ("rollback: running world notices", f"{rollback['follower_notice_ms']:.2f} ms", ""),
        (f"rollback: next tick ({args.entities:,} molbots)", f"{rollback['tick_ms']:.2f} ms", ""),
        (
            "rollback to full effect",
            f"{rollback['rollback_to_effect_ms']:.2f} ms (1 tick)",
            "< 10 ms, 1 tick",
        ),
        ("rollback overhead (without the tick)", f"{rollback['rollback_overhead_ms']:.2f} ms", ""),
        ("stages 1-3, 100-object bundle (neon)", f"{stage['total_ms']:.2f} ms", "< 50 ms"),
        (
            "  integrity / schema / lint",
            f"{stage['integrity_ms']:.2f} / {stage['schema_ms']:.2f} / {stage['static_ms']:.2f} ms",
            "",
        ),
        (
            "  world check / 5 script checks",
            f"{stage['world_ms']:.2f} / {stage['scripts_ms']:.2f} ms",
            "",
        ),
        ("  once a process: neon base lint catalog", f"{stage['base_catalog_once_ms']:.2f} ms", ""),
        (
            f"ledger verify at open ({ledger['entries']:,} entries)",
            f"{ledger['verify_entries_per_s']:,.0f} entries/s",
            "≥ 10,000/s",
        ),
    ]
    base = anchors["unsigned"]
    modes = {mode: m for mode, m in anchors.items() if isinstance(m, dict)}
    rows.append(("signing a head (ed25519, CPU only)", f"{anchors['sign_head_us']:.1f} µs", "< 1 ms"))
    for mode, m in modes.items():
        extra = "" if mode == "unsigned" else f" (+{m['transaction_ms'] - base['transaction_ms']:.2f})"
        rows.append((f"ledger transaction, head {mode}", f"{m['transaction_ms']:.2f} ms{extra}", ""))
    for mode, m in modes.items():
        rows.append(
            (f"submit / rollback, head {mode}", f"{m['submit_ms']:.1f} / {m['rollback_ms']:.2f} ms", "")
        )
    width = max(len(r[0]) for r in rows)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    quick = " (--quick: not the README's figures)" if args.quick else ""
    print(f"governance benchmark — medians of {args.repeats} runs — {machine} — load {load}{quick}")
    print(f"{'measure':<{width}}  {'result':<26}  goal")
    for name, value, goal in rows:
        print(f"{name:<{width}}  {value:<26}  {goal}")
    # --quick figures never replace the README's: they go to a temporary folder
    results = Path(tempfile.mkdtemp()) if args.quick else REPO / "benchmarks" / "results"
    out = args.out or results / "governance.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": machine,
                "repeats": args.repeats,
                "rollback": rollback,
                "stages": stage,
                "ledger": ledger,
                "anchors": anchors,
                "quick": args.quick,
                "load": os.getloadavg(),
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
