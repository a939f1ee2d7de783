// The dashboard shell: login gate, then tabs. The live tab shows every world the server runs
// (GET /api/worlds; PixiJS, 30 FPS); live feed events from the stream feed the evolution tab.

import { useCallback, useEffect, useState } from "react";
import { getToken, setToken } from "./api";
import { Charts } from "./Charts";
import { Control } from "./Control";
import { DirectorLog, EvolutionFeed } from "./Feed";
import { Guardrails } from "./Guardrails";
import { Ledger } from "./Ledger";
import { Login } from "./Login";
import { Queue } from "./Queue";
import { Rollouts } from "./Rollouts";
import { Snapshots } from "./Snapshots";
import { Players } from "./Players";
import { paletteOf, WorldCanvas } from "./WorldCanvas";
import { usePoll, type Row } from "./ui";

/** A running world as GET /api/worlds describes it. */
export interface WorldInfo {
  name: string;
  summary: string;
  played: boolean;
  stream: { kind: number; legend: Record<string, string>; resource: string } | null;
}

/** What each colour on a world's canvas is: its entity kinds, then its resources. */
function Legend({ world }: { world: WorldInfo }) {
  const palette = paletteOf(world.name);
  const css = (c: number) => `#${c.toString(16).padStart(6, "0")}`;
  const kinds = Object.entries(world.stream?.legend ?? {});
  return (
    <div className="muted small" data-testid={`legend-${world.name}`}>
      {kinds.map(([code, label], i) => (
        <span key={code} style={{ color: css(palette.kinds[Number(code) % palette.kinds.length]) }}>
          {i > 0 ? " · " : ""}
          {label}
        </span>
      ))}
      {world.stream?.resource ? <span> · dots: {world.stream.resource}</span> : null}
    </div>
  );
}

const TABS = ["control", "queue", "ledger", "rollouts", "snapshots", "director", "evolution", "live", "players", "charts", "guardrails"] as const;
type Tab = (typeof TABS)[number];

export function App() {
  const [user, setUser] = useState<string | null>(getToken() ? "operator" : null);
  const [tab, setTab] = useState<Tab>(() => {
    const h = location.hash.slice(1) as Tab;
    return TABS.includes(h) ? h : "control";
  });
  const [picked, setWorld] = useState<string | null>(null);
  const worlds = usePoll<WorldInfo[]>(user ? "/api/worlds" : null, 0).data ?? [];
  const world = picked ?? worlds.find((w) => !w.played)?.name ?? worlds[0]?.name ?? "";
  const [live, setLive] = useState<Row[]>([]);
  const onFeed = useCallback((e: Row) => setLive((l) => [...l.slice(-199), e]), []);

  useEffect(() => {
    const out = () => {
      setToken(null);
      setUser(null);
    };
    window.addEventListener("ouroboros:unauthorized", out);
    return () => window.removeEventListener("ouroboros:unauthorized", out);
  }, []);
  useEffect(() => {
    location.hash = tab;
  }, [tab]);

  if (!user) return <Login onLogin={setUser} />;
  return (
    <div className="app">
      <header>
        <b className="brand">ouroboros</b>
        <nav>
          {TABS.map((t) => (
            <button key={t} data-testid={`nav-${t}`} className={t === tab ? "active" : ""} onClick={() => setTab(t)}>
              {t}
            </button>
          ))}
        </nav>
        <select data-testid="world-select" value={world} onChange={(e) => setWorld(e.target.value)}>
          {worlds.map((w) => (
            <option key={w.name} value={w.name}>
              {w.name}
            </option>
          ))}
        </select>
        <span className="muted" data-testid="whoami">
          {user}
        </span>
        <button
          data-testid="logout"
          onClick={() => {
            setToken(null);
            setUser(null);
          }}
        >
          sign out
        </button>
      </header>
      <main>
        {tab === "control" && <Control world={world} />}
        {tab === "queue" && <Queue world={world} />}
        {tab === "ledger" && <Ledger world={world} />}
        {tab === "rollouts" && <Rollouts world={world} />}
        {tab === "snapshots" && <Snapshots world={world} />}
        {tab === "director" && <DirectorLog world={world} />}
        {tab === "evolution" && <EvolutionFeed live={live} />}
        {tab === "live" && (
          <div className="live">
            {worlds
              .filter((w) => w.stream)
              .map((w, i) => (
                <section key={w.name} className="panel" data-testid={`panel-${w.name}`} title={w.summary}>
                  <h2>{w.name}</h2>
                  <WorldCanvas
                    world={w.name}
                    palette={paletteOf(w.name)}
                    onFeed={i === 0 ? onFeed : undefined}
                    testId={`${w.name}-canvas`}
                    spread={w.played ? 5 : 0}
                  />
                  <Legend world={w} />
                </section>
              ))}
          </div>
        )}
        {tab === "players" && <Players world={world} played={worlds.filter((w) => w.played).map((w) => w.name)} />}
        {tab === "charts" && <Charts />}
        {tab === "guardrails" && <Guardrails />}
      </main>
    </div>
  );
}
