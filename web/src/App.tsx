// The dashboard shell: the session check (the httpOnly cookie survives reloads and closed tabs:
// /api/auth/me says who is signed in and their real role), then tabs. The live tab shows every
// world the server runs (GET /api/worlds; PixiJS, 30 FPS) and the map of a world people play;
// live feed events from the stream feed the evolution tab. New alerts pop up as toasts from any tab.

import { useCallback, useEffect, useState } from "react";
import { api, refreshTicket, setToken } from "./api";
import { Alerts, Toasts } from "./Alerts";
import { Charts } from "./Charts";
import { CityMap } from "./CityMap";
import { Cluster } from "./Cluster";
import { Control } from "./Control";
import { DirectorLog, EvolutionFeed } from "./Feed";
import { Guardrails } from "./Guardrails";
import { Ledger } from "./Ledger";
import { Login, type Me } from "./Login";
import { Profiler } from "./Profiler";
import { Queue } from "./Queue";
import { Rollouts } from "./Rollouts";
import { Sessions } from "./Sessions";
import { Snapshots } from "./Snapshots";
import { Traces } from "./Traces";
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

const TABS = [
  "control",
  "queue",
  "ledger",
  "rollouts",
  "cluster",
  "snapshots",
  "director",
  "evolution",
  "live",
  "players",
  "charts",
  "profiler",
  "alerts",
  "guardrails",
  "traces",
  "sessions",
] as const;
type Tab = (typeof TABS)[number];

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checked, setChecked] = useState(false);
  const [tab, setTab] = useState<Tab>(() => {
    const h = location.hash.slice(1) as Tab;
    return TABS.includes(h) ? h : "control";
  });
  const [picked, setWorld] = useState<string | null>(null);
  const worlds = usePoll<WorldInfo[]>(me ? "/api/worlds" : null, 0).data ?? [];
  const world = picked ?? worlds.find((w) => !w.played)?.name ?? worlds[0]?.name ?? "";
  const [live, setLive] = useState<Row[]>([]);
  const [unseen, setUnseen] = useState(0); // alerts since the alerts tab was last open
  const onFeed = useCallback((e: Row) => setLive((l) => [...l.slice(-199), e]), []);

  const signedIn = useCallback(async (who: Me) => {
    await refreshTicket(); // before the live tab opens its streams
    setMe(who);
  }, []);

  useEffect(() => {
    // a reload or a new tab: the cookie, if any, is still the session
    api<Me>("/api/auth/me")
      .then((who) => signedIn(who))
      .catch(() => setMe(null))
      .finally(() => setChecked(true));
  }, [signedIn]);
  useEffect(() => {
    const out = () => {
      setToken(null);
      setMe(null);
    };
    window.addEventListener("ouroboros:unauthorized", out);
    return () => window.removeEventListener("ouroboros:unauthorized", out);
  }, []);
  useEffect(() => {
    if (!me) return;
    const id = window.setInterval(() => void refreshTicket(), 60_000);
    return () => window.clearInterval(id);
  }, [me]);
  useEffect(() => {
    location.hash = tab;
    if (tab === "alerts") setUnseen(0);
  }, [tab]);

  if (!checked) return <div className="login muted">…</div>;
  if (!me) return <Login onLogin={(who) => void signedIn(who)} />;
  return (
    <div className="app">
      <header>
        <b className="brand">ouroboros</b>
        <nav>
          {TABS.map((t) => (
            <button key={t} data-testid={`nav-${t}`} className={t === tab ? "active" : ""} onClick={() => setTab(t)}>
              {t}
              {t === "alerts" && unseen > 0 && (
                <span className="badge unseen" data-testid="alerts-unseen">
                  {unseen}
                </span>
              )}
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
        <span className="muted" data-testid="whoami" data-role={me.role}>
          {me.user} · {me.role}
        </span>
        <button
          data-testid="logout"
          onClick={() => {
            void api("/api/auth/logout", { method: "POST" }).finally(() => {
              setToken(null);
              setMe(null);
            });
          }}
        >
          sign out
        </button>
      </header>
      <Toasts onOpen={() => setTab("alerts")} onNew={(n) => setUnseen((u) => (tab === "alerts" ? 0 : u + n))} />
      <main>
        {tab === "control" && <Control world={world} />}
        {tab === "queue" && <Queue world={world} />}
        {tab === "ledger" && <Ledger world={world} />}
        {tab === "rollouts" && <Rollouts world={world} />}
        {tab === "cluster" && <Cluster />}
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
            {worlds
              .filter((w) => w.played)
              .map((w) => (
                <section key={`map-${w.name}`} className="panel" data-testid={`panel-map-${w.name}`}>
                  <h2>{w.name}: map</h2>
                  <CityMap world={w.name} />
                </section>
              ))}
          </div>
        )}
        {tab === "players" && <Players world={world} played={worlds.filter((w) => w.played).map((w) => w.name)} />}
        {tab === "charts" && <Charts />}
        {tab === "profiler" && <Profiler world={world} />}
        {tab === "alerts" && <Alerts />}
        {tab === "guardrails" && <Guardrails />}
        {tab === "traces" && <Traces />}
        {tab === "sessions" && <Sessions />}
      </main>
    </div>
  );
}
