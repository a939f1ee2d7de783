// The engine's profiler: each tick as a stacked bar of its systems' times (the last few hundred
// ticks), the optimizer's decisions marked on the same tick axis with their before/after times,
// per-system memory (the bytes of the columns a system declares) and allocations (Python blocks
// per tick) as a heat strip, the tick thread's hardware counters (or why they are unavailable),
// and the controls: freeze rewriting, force a variant, release it (each audited, with a reason).

import { useState } from "react";
import { api } from "./api";
import { Panel, Status, str, useAction, usePoll, type Row } from "./ui";

const COLORS = ["#4cc9f0", "#f72585", "#b5e48c", "#ffd166", "#9b5de5", "#f15bb5", "#00f5d4", "#fb8500", "#8ecae6", "#e76f51", "#90be6d", "#577590"];

interface Sys {
  name: string;
  variant: string;
  ms: number[];
  mean_ms: number;
  share: number;
  alloc_blocks_mean: number | null;
  column_bytes: number;
}

function bytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

function Timeline({ ticks, systems, decisions }: { ticks: number[]; systems: Sys[]; decisions: Row[] }) {
  const w = 960;
  const h = 220;
  const n = ticks.length;
  if (!n) return <div className="muted">no ticks measured yet</div>;
  const totals = ticks.map((_, i) => systems.reduce((a, s) => a + (s.ms[i] ?? 0), 0));
  // the scale ends at the 95th percentile tick (a rare spike is drawn clipped, marked red)
  const sorted = [...totals].sort((a, b) => a - b);
  const max = Math.max(sorted[Math.floor(sorted.length * 0.95)] ?? 0, 1e-6);
  const peak = sorted[sorted.length - 1] ?? 0;
  const bw = w / n;
  const x = (tick: number) => ((tick - ticks[0]) / n) * w;
  return (
    <svg width={w} height={h + 16} viewBox={`0 0 ${w} ${h + 16}`} data-testid="profiler-timeline" data-ticks={n}>
      {ticks.map((t, i) => {
        let y = h;
        return (
          <g key={t}>
            {systems.map((s, j) => {
              const v = s.ms[i] ?? 0;
              const bh = Math.min((v / max) * (h - 4), Math.max(y - 4, 0));
              y -= bh;
              return (
                <rect key={s.name} x={i * bw} y={y} width={Math.max(bw - 0.5, 0.5)} height={bh} fill={COLORS[j % COLORS.length]}>
                  <title>{`tick ${t} · ${s.name} (${s.variant}) ${v.toFixed(3)} ms`}</title>
                </rect>
              );
            })}
            {totals[i] > max && <rect x={i * bw} y={0} width={Math.max(bw - 0.5, 0.5)} height={3} fill="#ff5c6c" />}
          </g>
        );
      })}
      {decisions.map((d, i) => (
        <g key={i} data-testid="profiler-decision-mark">
          <line x1={x(Number(d.tick))} x2={x(Number(d.tick))} y1={0} y2={h} stroke="#fff" strokeDasharray="3 3" />
          <text x={x(Number(d.tick)) + (x(Number(d.tick)) > w - 120 ? -4 : 2)} y={12 + (i % 4) * 12} fill="#fff" fontSize={10} textAnchor={x(Number(d.tick)) > w - 120 ? "end" : "start"}>
            {str(d.kind)} {str(d.system)}
          </text>
          <title>{`tick ${str(d.tick)} ${str(d.kind)} ${str(d.system)}: ${str(d.from)} → ${str(d.to)}${
            d.before_ms != null && d.after_ms != null ? ` (optimizer: ${Number(d.before_ms).toFixed(3)} → ${Number(d.after_ms).toFixed(3)} ms)` : ""
          }${
            d.measured_before_ms != null && d.measured_after_ms != null
              ? ` (profiler, ${str((d.measured_ticks as number[])[0])}/${str((d.measured_ticks as number[])[1])} ticks around: ${Number(d.measured_before_ms).toFixed(3)} → ${Number(d.measured_after_ms).toFixed(3)} ms)`
              : ""
          } — ${str(d.why)}`}</title>
        </g>
      ))}
      <text x={0} y={h + 12} fill="currentColor" fontSize={10}>
        tick {ticks[0]}
      </text>
      <text x={w - 70} y={h + 12} fill="currentColor" fontSize={10}>
        tick {ticks[n - 1]}
      </text>
      <text x={w / 2 - 40} y={h + 12} fill="currentColor" fontSize={10}>
        scale {max.toFixed(2)} ms (p95) · peak {peak.toFixed(2)} ms
      </text>
    </svg>
  );
}

function heat(v: number, max: number): string {
  const a = max > 0 ? Math.min(1, v / max) : 0;
  return `rgba(247, 37, 133, ${0.1 + 0.8 * a})`;
}

export function Profiler({ world }: { world: string }) {
  const [paused, setPaused] = useState(false);
  const p = usePoll<Row>(`/api/profiler?world=${world}&ticks=240`, paused ? 0 : 2000);
  const act = useAction();
  const [system, setSystem] = useState("");
  const [variant, setVariant] = useState("");
  const data = p.data;
  const systems = ((data?.systems ?? []) as Sys[]).filter((s) => s.ms.length);
  const ticks = (data?.ticks ?? []) as number[];
  const decisions = (data?.decisions ?? []) as Row[];
  const inWindow = (data?.in_window ?? []) as Row[];
  const variants = (data?.variants ?? {}) as Record<string, string[]>;
  const control = (data?.control ?? { frozen: false, forced: {} }) as { frozen: boolean; forced: Record<string, string> };
  const hw = (data?.hardware ?? {}) as Row;
  const choosable = Object.entries(variants).filter(([, v]) => v.length > 1);
  const post = (label: string, path: string, body: Row) =>
    act.run(label, async () => {
      await api(`/api/profiler/${path}`, { method: "POST", body: { world, reason: `${label} from the profiler`, ...body } });
      await p.reload();
    });
  const maxBytes = Math.max(...systems.map((s) => s.column_bytes), 0);
  const maxAlloc = Math.max(...systems.map((s) => Math.abs(s.alloc_blocks_mean ?? 0)), 0);
  const counters = (hw.counters ?? {}) as Record<string, Row>;
  return (
    <Panel title={`Profiler — ${world}`} testId="panel-profiler">
      {p.error && <div className="error">{p.error}</div>}
      <div className="row">
        <button data-testid="profiler-pause" onClick={() => setPaused((x) => !x)}>
          {paused ? "follow live" : "hold this view"}
        </button>
        <span className="small muted">
          {ticks.length} ticks · optimizer {data?.optimizer ? "running" : "not running in this world"} · rewriting{" "}
          <b data-testid="profiler-frozen">{control.frozen ? "frozen" : "on"}</b>
        </span>
      </div>
      <Timeline ticks={ticks} systems={systems} decisions={inWindow} />
      <table className="grid-table" data-testid="profiler-systems">
        <thead>
          <tr>
            <th />
            <th>system</th>
            <th>variant</th>
            <th>mean ms</th>
            <th>share</th>
            <th>memory (columns)</th>
            <th>allocations / tick</th>
          </tr>
        </thead>
        <tbody>
          {systems.map((s, j) => (
            <tr key={s.name} data-testid={`profiler-system-${s.name}`}>
              <td>
                <span className="swatch" style={{ background: COLORS[j % COLORS.length] }} />
              </td>
              <td>{s.name}</td>
              <td>
                {s.variant}
                {control.forced[s.name] && <span className="badge">forced</span>}
              </td>
              <td>{s.mean_ms.toFixed(3)}</td>
              <td>{(s.share * 100).toFixed(1)}%</td>
              <td style={{ background: heat(s.column_bytes, maxBytes) }}>{bytes(s.column_bytes)}</td>
              <td style={{ background: heat(Math.abs(s.alloc_blocks_mean ?? 0), maxAlloc) }}>
                {s.alloc_blocks_mean == null ? "—" : s.alloc_blocks_mean.toFixed(1)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h3>Controls</h3>
      <div className="row">
        <button
          data-testid="profiler-freeze"
          disabled={act.busy}
          onClick={() => void post(control.frozen ? "unfreeze" : "freeze", "freeze", { frozen: !control.frozen })}
        >
          {control.frozen ? "Unfreeze rewriting" : "Freeze rewriting"}
        </button>
        <select
          data-testid="profiler-force-system"
          value={system}
          onChange={(e) => {
            setSystem(e.target.value);
            setVariant("");
          }}
        >
          <option value="">system…</option>
          {choosable.map(([name]) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
        <select data-testid="profiler-force-variant" value={variant} onChange={(e) => setVariant(e.target.value)}>
          <option value="">variant…</option>
          {(variants[system] ?? []).map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
        <button data-testid="profiler-force" disabled={!system || !variant || act.busy} onClick={() => void post(`force ${system}=${variant}`, "force", { system, variant })}>
          Force
        </button>
        {Object.entries(control.forced).map(([s, v]) => (
          <button key={s} data-testid={`profiler-release-${s}`} onClick={() => void post(`release ${s}`, "release", { system: s })}>
            release {s}={v}
          </button>
        ))}
      </div>
      <Status msg={act.msg} testId="profiler-status" />

      <h3>Hardware counters (tick thread)</h3>
      <div data-testid="profiler-hardware" data-available={String(Boolean(hw.available))} className="small">
        {!hw.available && <div className="muted">cache misses, branch mispredictions: unavailable — {str(hw.reason)}</div>}
        {hw.available === true && (
          <div>
            cache miss rate {hw.cache_miss_rate == null ? "—" : `${(Number(hw.cache_miss_rate) * 100).toFixed(2)}%`} · branch miss rate{" "}
            {hw.branch_miss_rate == null ? "—" : `${(Number(hw.branch_miss_rate) * 100).toFixed(2)}%`}
          </div>
        )}
        {Object.entries(counters).map(([k, v]) => (
          <span key={k} className="badge">
            {k.replace(/_/g, " ")}: {str(v.since_last_read ?? v.error)} since last read
          </span>
        ))}
      </div>

      {inWindow.some((d) => d.measured_before_ms != null) && (
        <>
          <h3>Rewrites in view: before and after</h3>
          <table className="grid-table" data-testid="profiler-around">
            <thead>
              <tr>
                <th>tick</th>
                <th>change</th>
                <th>this system, ticks before</th>
                <th>ticks after</th>
                <th>change</th>
              </tr>
            </thead>
            <tbody>
              {inWindow
                .filter((d) => d.measured_before_ms != null)
                .map((d, i) => {
                  const b = Number(d.measured_before_ms);
                  const a = d.measured_after_ms == null ? null : Number(d.measured_after_ms);
                  return (
                    <tr key={i}>
                      <td>{str(d.tick)}</td>
                      <td>
                        {str(d.kind)} {str(d.system)}: {str(d.from) || "—"} → {str(d.to) || "—"}
                      </td>
                      <td>{b.toFixed(3)} ms</td>
                      <td>{a == null ? "—" : `${a.toFixed(3)} ms`}</td>
                      <td className={a != null && a < b ? "ok" : "error"}>{a == null ? "" : `${(((a - b) / Math.max(b, 1e-9)) * 100).toFixed(0)}%`}</td>
                    </tr>
                  );
                })}
            </tbody>
          </table>
        </>
      )}

      <h3>Optimizer decisions</h3>
      <table className="grid-table" data-testid="profiler-decisions">
        <thead>
          <tr>
            <th>tick</th>
            <th>decision</th>
            <th>change</th>
            <th>before → after</th>
            <th>why</th>
          </tr>
        </thead>
        <tbody>
          {[...decisions].reverse().map((d, i) => (
            <tr key={i} data-testid="profiler-decision">
              <td>{str(d.tick)}</td>
              <td>{str(d.kind)}</td>
              <td>{d.system ? `${str(d.system)}: ${str(d.from) || "—"} → ${str(d.to) || "—"}` : ""}</td>
              <td>
                {d.before_ms != null && d.after_ms != null
                  ? `${Number(d.before_ms).toFixed(3)} → ${Number(d.after_ms).toFixed(3)} ms (${(((Number(d.after_ms) - Number(d.before_ms)) / Math.max(Number(d.before_ms), 1e-9)) * 100).toFixed(0)}%)`
                  : "—"}
              </td>
              <td className="small">{str(d.why)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
