"""The real local model in the loop: how fast it enriches proposals and how much of it we keep.

Starts ``ouroboros llm serve`` (SmolLM2-135M Q4_1 on node-llama-cpp, one thread; fetched once
into the cache, see ``ouroboros.ai.llm.local``), generates neon proposals (NPC, ITEM, QUEST,
BUILDING) from the base content, and enriches each through both protocols (Ollama ``/api/chat``
and OpenAI-compatible ``/v1/chat/completions``), with every check the council applies (the text
filter and the meaning check, existing objects' words kept). Per protocol it reports:

- **latency per proposal enriched** (median and p90 of the whole ``enrich`` call, wall clock);
- **tokens/s**: tokens out / the time of the requests (prompt evaluation included);
- **accepted share**: of the texts the model was asked to write, the share it wrote that passed
  every check; and the share of proposals enriched with no fallback at all.

Writes benchmarks/results/llm.json (``--quick``: results/quick/llm.json, 2 proposals a protocol).

    python benchmarks/bench_llm.py [--proposals 8] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ouroboros.ai.generators import generate  # noqa: E402
from ouroboros.ai.llm import OllamaProvider, OpenAICompatProvider  # noqa: E402
from ouroboros.ai.llm.enrich import enrich  # noqa: E402
from ouroboros.ai.llm.local import LocalServer, ensure_model, ensure_runtime  # noqa: E402
from ouroboros.ai.proposals import Proposal, ProposalType  # noqa: E402
from ouroboros.patches import base_content  # noqa: E402

TYPES = (ProposalType.NPC, ProposalType.ITEM, ProposalType.QUEST, ProposalType.BUILDING)
TIMEOUT_S = 180.0


def _context(proposal: Proposal, base: dict[str, dict[str, Any]]) -> tuple[set[tuple[str, str]], list[str]]:
    """What the council passes enrich: the proposal's objects that exist, names it refers to."""
    existing = {(d, i) for d, i in proposal.object_ids() if i in base.get(d, {})}
    names = {i: o.get("name") for objects in base.values() for i, o in objects.items()}
    text = json.dumps(proposal.payload)
    referred = sorted({n for i, n in names.items() if isinstance(n, str) and f'"{i}"' in text})
    return existing, referred


def _proposals(count: int) -> list[Proposal]:
    out = []
    seed = 0
    while len(out) < count:
        kind = TYPES[len(out) % len(TYPES)]
        seed += 1
        try:
            out.append(generate(kind, seed, world="neon"))
        except Exception:  # a seed the generator cannot use for this type: take the next
            continue
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0


def run_protocol(provider: Any, proposals: list[Proposal], base: dict[str, Any]) -> dict[str, Any]:
    latencies, tokens, gen_ms = [], 0, 0
    asked = accepted = clean = 0
    reasons: dict[str, int] = {}
    for proposal in proposals:
        existing, names = _context(proposal, base)
        started = time.perf_counter()
        _enriched, report = enrich(
            proposal, provider, timeout_s=TIMEOUT_S, existing=existing, known_names=names
        )
        latencies.append((time.perf_counter() - started) * 1000)
        tokens += report.tokens_out
        gen_ms += report.latency_ms
        asked += len(report.texts)
        accepted += sum(1 for t in report.texts.values() if t["source"] == provider.name)
        clean += 0 if report.fallback else 1
        for rejected in report.rejected:
            reasons[rejected["code"]] = reasons.get(rejected["code"], 0) + 1
        if report.reason and not report.rejected:
            key = report.reason.split(":")[1].strip() if ":" in report.reason else report.reason
            reasons[key[:40]] = reasons.get(key[:40], 0) + 1
    return {
        "proposals": len(proposals),
        "latency_ms_p50": round(statistics.median(latencies), 1),
        "latency_ms_p90": round(_pct(latencies, 0.9), 1),
        "tokens_out": tokens,
        "tokens_per_s": round(tokens / (gen_ms / 1000), 1) if gen_ms else 0.0,
        "texts_asked": asked,
        "texts_accepted": accepted,
        "accepted_share": round(accepted / asked, 3) if asked else 0.0,
        "no_fallback_share": round(clean / len(proposals), 3),
        "refusals": reasons,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=8, help="proposals per protocol")
    parser.add_argument("--quick", action="store_true", help="2 proposals per protocol")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    count = 2 if args.quick else args.proposals
    out = args.out or REPO / "benchmarks" / "results" / ("quick" if args.quick else "") / "llm.json"

    started = time.perf_counter()
    model = ensure_model()
    runtime = ensure_runtime()
    fetch_s = time.perf_counter() - started
    load_before = os.getloadavg()
    base = {d: {o["id"]: o for o in objects} for d, objects in base_content("neon").items()}
    proposals = _proposals(count)
    started = time.perf_counter()
    with LocalServer(model, port=0, threads=1, runtime=runtime, start_timeout_s=180) as server:
        ready_s = time.perf_counter() - started
        results = {
            "ollama": run_protocol(
                OllamaProvider(server.base_url, server.model_name, max_attempts=1), proposals, base
            ),
            "openai": run_protocol(
                OpenAICompatProvider(server.base_url, server.model_name, max_attempts=1), proposals, base
            ),
        }
    report = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
        },
        "model": server.model_name,
        "threads": 1,
        "fetch_or_cache_s": round(fetch_s, 1),
        "server_ready_s": round(ready_s, 1),
        "types": [str(t) for t in TYPES],
        "results": results,
    }
    print(f"model {server.model_name}, 1 thread, server ready in {ready_s:.1f} s; load {load_before[0]:.1f}")
    head = f"{'protocol':<9} {'n':>3} {'p50 ms':>8} {'p90 ms':>8} {'tok/s':>6} {'accepted':>13}"
    print(head + f" {'no fallback':>12}")
    for name, r in results.items():
        print(
            f"{name:<9} {r['proposals']:>3} {r['latency_ms_p50']:>8.0f} {r['latency_ms_p90']:>8.0f} "
            f"{r['tokens_per_s']:>6.1f} {r['texts_accepted']:>3}/{r['texts_asked']:<3} "
            f"{r['accepted_share']:>5.0%} {r['no_fallback_share']:>12.0%}"
        )
        if r["refusals"]:
            print(f"          refusals: {r['refusals']}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
