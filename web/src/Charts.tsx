// Charts from the server's history (/api/history: one sample a second per world, the last hour
// kept by the runtime), so a chart opened late, or again after a tab change, starts full. Each
// series has a human name and unit; plain SVG polylines, no chart library. The first load reads
// the whole window, then only the newest samples are fetched and appended.

import { useEffect, useRef, useState } from "react";
import { api } from "./api";
import { Panel } from "./ui";

const WINDOWS: [string, number][] = [
  ["5 min", 300],
  ["15 min", 900],
  ["1 hour", 3600],
];

interface Series {
  label: string;
  unit: string;
  values: (number | null)[];
}
interface Hist {
  world: string;
  t: number[];
  series: Record<string, Series>;
}

function merge(old: Hist | undefined, add: Hist, keep: number): Hist {
  if (!old) return add;
  const last = old.t.length ? old.t[old.t.length - 1] : -Infinity;
  const fresh = add.t.map((t, i) => [t, i] as const).filter(([t]) => t > last);
  const t = [...old.t, ...fresh.map(([x]) => x)];
  const keys = new Set([...Object.keys(old.series), ...Object.keys(add.series)]);
  const series: Record<string, Series> = {};
  for (const k of keys) {
    const o = old.series[k] ?? { ...add.series[k], values: old.t.map(() => null) };
    const a = add.series[k];
    series[k] = { label: o.label, unit: o.unit, values: [...o.values, ...fresh.map(([, i]) => (a ? a.values[i] : null))] };
  }
  const since = t.length ? t[t.length - 1] - keep : 0;
  const first = t.findIndex((x) => x >= since);
  const cut = first < 0 ? t.length : first;
  for (const k of Object.keys(series)) series[k].values = series[k].values.slice(cut);
  return { world: add.world, t: t.slice(cut), series };
}

function Spark({ id, s, t }: { id: string; s: Series; t: number[] }) {
  const w = 300;
  const h = 70;
  const nums = s.values.filter((v): v is number => v !== null);
  if (!nums.length) return null;
  const min = Math.min(...nums);
  const max = Math.max(...nums);
  const span = max - min || 1;
  const t0 = t[0];
  const tspan = Math.max(1, t[t.length - 1] - t0);
  const pts = s.values
    .map((v, i) => (v === null ? null : `${(((t[i] - t0) / tspan) * w).toFixed(1)},${(h - 4 - ((v - min) / span) * (h - 8)).toFixed(1)}`))
    .filter(Boolean)
    .join(" ");
  const last = nums[nums.length - 1];
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));
  return (
    <figure className="chart" data-testid={`chart-${id}`}>
      <figcaption>
        {s.label} <b>{fmt(last)}</b> <span className="muted small">{s.unit}</span>
      </figcaption>
      <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`}>
        <polyline fill="none" stroke="currentColor" strokeWidth={1.5} points={pts} />
      </svg>
      <div className="muted small">
        {fmt(min)} … {fmt(max)} · {tspan < 120 ? `${Math.round(tspan)} s` : `${Math.round(tspan / 60)} min`}
      </div>
    </figure>
  );
}

export function Charts() {
  const [keep, setKeep] = useState(900);
  const [worlds, setWorlds] = useState<string[]>([]);
  const hist = useRef(new Map<string, Hist>());
  const [, setVersion] = useState(0);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    hist.current = new Map();
    const poll = async () => {
      try {
        const running = Object.keys(((await api("/api/stats")) as { worlds?: Record<string, unknown> }).worlds ?? {});
        if (alive) setWorlds(running);
        await Promise.all(
          running.map(async (w) => {
            const have = hist.current.get(w);
            const seconds = have && have.t.length ? 10 : keep;
            const got = await api<Hist>(`/api/history?world=${w}&seconds=${seconds}`);
            hist.current.set(w, merge(have, got, keep));
          }),
        );
        if (alive) {
          setError(null);
          setVersion((x) => x + 1);
        }
      } catch (e) {
        if (alive) setError(e instanceof Error ? e.message : String(e));
      }
    };
    void poll();
    const id = window.setInterval(() => void poll(), 2000);
    return () => {
      alive = false;
      window.clearInterval(id);
    };
  }, [keep]);
  return (
    <Panel title="Charts" testId="panel-charts">
      <div className="row">
        {WINDOWS.map(([label, s]) => (
          <button key={s} data-testid={`charts-window-${s}`} className={s === keep ? "active" : ""} onClick={() => setKeep(s)}>
            last {label}
          </button>
        ))}
      </div>
      {error && <div className="error">{error}</div>}
      {worlds.map((w) => {
        const h = hist.current.get(w);
        return (
          <section key={w}>
            <h3>{w}</h3>
            <div className="charts">
              {h &&
                Object.entries(h.series).map(([k, s]) => <Spark key={k} id={`${w}.${k}`} s={s} t={h.t} />)}
            </div>
          </section>
        );
      })}
    </Panel>
  );
}
