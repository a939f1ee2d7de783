// Live charts from /api/world/state of each world, polled every second: tick time p50/p95,
// population, energy, money supply and inflation. Each numeric leaf is a series named by its dotted
// path (`petri.kpis.entity_count`); plain SVG polylines over the last two minutes, no chart library.

import { useEffect, useRef, useState } from "react";
import { api } from "./api";
import { Panel } from "./ui";

const KEEP = 120;
const WANTED = [/tick_p50_ms$/, /tick_p95_ms$/, /ticks_per_second$/, /kpis\.(entity_count|npcs|players_online|food_count)$/, /energy/, /money_supply/, /inflation/];

function leaves(value: unknown, prefix: string, out: Map<string, number>): void {
  if (typeof value === "number" && Number.isFinite(value)) out.set(prefix, value);
  else if (value && typeof value === "object" && !Array.isArray(value))
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
}

function Spark({ name, values }: { name: string; values: number[] }) {
  const w = 260;
  const h = 60;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const pts = values.map((v, i) => `${(i / Math.max(1, KEEP - 1)) * w},${h - 4 - ((v - min) / span) * (h - 8)}`).join(" ");
  return (
    <figure className="chart" data-testid={`chart-${name}`}>
      <figcaption>
        {name} <b>{values[values.length - 1]}</b>
      </figcaption>
      <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`}>
        <polyline fill="none" stroke="currentColor" strokeWidth={1.5} points={pts} />
      </svg>
      <div className="muted small">
        {min} … {max}
      </div>
    </figure>
  );
}

export function Charts() {
  const series = useRef(new Map<string, number[]>());
  const [, setVersion] = useState(0);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    const poll = async () => {
      try {
        const now = new Map<string, number>();
        const running = Object.keys(((await api("/api/stats")) as { worlds?: Record<string, unknown> }).worlds ?? {});
        const states = await Promise.all(running.map((w) => api(`/api/world/state?world=${w}`)));
        states.forEach((st, i) => leaves(st, running[i], now));
        for (const [k, v] of now) {
          const s = series.current.get(k) ?? [];
          s.push(v);
          if (s.length > KEEP) s.shift();
          series.current.set(k, s);
        }
        if (alive) {
          setError(null);
          setVersion((x) => x + 1);
        }
      } catch (e) {
        if (alive) setError(e instanceof Error ? e.message : String(e));
      }
    };
    void poll();
    const id = window.setInterval(() => void poll(), 1000);
    return () => {
      alive = false;
      window.clearInterval(id);
    };
  }, []);
  const names = [...series.current.keys()].filter((k) => WANTED.some((re) => re.test(k)));
  return (
    <Panel title="Charts" testId="panel-charts">
      {error && <div className="error">{error}</div>}
      <div className="charts">
        {names.map((n) => (
          <Spark key={n} name={n} values={series.current.get(n) ?? []} />
        ))}
      </div>
    </Panel>
  );
}
