// The dashboard shell: login gate, then tabs. The live tab shows the petri dish and the neon city
// (PixiJS, 30 FPS); live feed events from the stream feed the evolution tab.

import { useCallback, useEffect, useState } from "react";
import { getToken, setToken } from "./api";
import { Charts } from "./Charts";
import { Control } from "./Control";
import { DirectorLog, EvolutionFeed } from "./Feed";
import { Guardrails } from "./Guardrails";
import { Ledger } from "./Ledger";
import { Login } from "./Login";
import { Queue } from "./Queue";
import { Snapshots } from "./Snapshots";
import { Traces } from "./Traces";
import { Players } from "./Players";
import { NEON, PETRI, WorldCanvas } from "./WorldCanvas";
import type { Row } from "./ui";

const TABS = ["control", "queue", "ledger", "snapshots", "director", "evolution", "live", "players", "charts", "guardrails", "traces"] as const;
type Tab = (typeof TABS)[number];

export function App() {
  const [user, setUser] = useState<string | null>(getToken() ? "operator" : null);
  const [tab, setTab] = useState<Tab>(() => {
    const h = location.hash.slice(1) as Tab;
    return TABS.includes(h) ? h : "control";
  });
  const [world, setWorld] = useState("petri");
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
          <option value="petri">petri</option>
          <option value="neon">neon</option>
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
          </div>
        )}
        {tab === "players" && <Players world={world} />}
        {tab === "charts" && <Charts />}
        {tab === "guardrails" && <Guardrails />}
        {tab === "traces" && <Traces />}
      </main>
    </div>
  );
}
