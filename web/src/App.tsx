// The dashboard shell: the session check (the httpOnly cookie survives reloads and closed tabs:
// /api/auth/me says who is signed in and their real role), then tabs. The live tab shows the
// petri dish and the neon city (PixiJS, 30 FPS); live feed events from the stream feed the
// evolution tab. New alerts pop up as toasts from any tab.

import { useCallback, useEffect, useState } from "react";
import { api, refreshTicket, setToken } from "./api";
import { Alerts, Toasts } from "./Alerts";
import { Charts } from "./Charts";
import { CityMap } from "./CityMap";
import { Control } from "./Control";
import { DirectorLog, EvolutionFeed } from "./Feed";
import { Guardrails } from "./Guardrails";
import { Ledger } from "./Ledger";
import { Login, type Me } from "./Login";
import { Profiler } from "./Profiler";
import { Queue } from "./Queue";
import { Sessions } from "./Sessions";
import { Snapshots } from "./Snapshots";
import { Players } from "./Players";
import { NEON, PETRI, WorldCanvas } from "./WorldCanvas";
import type { Row } from "./ui";

const TABS = [
  "control",
  "queue",
  "ledger",
  "snapshots",
  "director",
  "evolution",
  "live",
  "players",
  "charts",
  "profiler",
  "alerts",
  "guardrails",
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
  const [world, setWorld] = useState("petri");
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
          <option value="petri">petri</option>
          <option value="neon">neon</option>
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
        {tab === "snapshots" && <Snapshots world={world} />}
        {tab === "director" && <DirectorLog world={world} />}
        {tab === "evolution" && <EvolutionFeed live={live} />}
        {tab === "live" && (
          <div className="live">
            <section className="panel" data-testid="panel-petri">
              <h2>Petri dish</h2>
              <WorldCanvas world="petri" palette={PETRI} onFeed={onFeed} testId="petri-canvas" />
            </section>
            <section className="panel" data-testid="panel-neon">
              <h2>Neon city</h2>
              <WorldCanvas world="neon" palette={NEON} testId="neon-canvas" spread={5} />
              <div className="muted small">cyan: players · yellow: NPCs · dots: rooms</div>
            </section>
            <section className="panel" data-testid="panel-citymap">
              <h2>City map</h2>
              <CityMap />
            </section>
          </div>
        )}
        {tab === "players" && <Players world={world} />}
        {tab === "charts" && <Charts />}
        {tab === "profiler" && <Profiler world={world} />}
        {tab === "alerts" && <Alerts />}
        {tab === "guardrails" && <Guardrails />}
        {tab === "sessions" && <Sessions />}
      </main>
    </div>
  );
}
