// Master control: STOP and GO per world (STOP asks to be confirmed: players in a stopped city are
// frozen), the kill-switch (release needs a TOTP code), and the director's personality sliders and
// toggles.

import { useEffect, useState } from "react";
import { api } from "./api";
import { Panel, Status, TotpPrompt, useAction, usePoll, type Row } from "./ui";

function worldsOf(stats: unknown): Row[] {
  if (!stats || typeof stats !== "object") return [];
  const s = stats as Row;
  const w = s.worlds ?? s;
  if (Array.isArray(w)) return w as Row[];
  return Object.entries(w as Row)
    .filter(([, v]) => v && typeof v === "object" && "tick" in (v as Row))
    .map(([k, v]) => ({ world: k, ...(v as Row) }));
}

type Run = (label: string, fn: () => Promise<unknown>) => Promise<boolean>;

// STOP one world (a first click arms it, a second confirms), GO one world.
function StopGo(props: { world: string; played: boolean; paused: boolean; busy: boolean; run: Run; reload: () => Promise<unknown> | void }) {
  const { world, played, paused, busy, run, reload } = props;
  const [armed, setArmed] = useState(false);
  const control = (what: "stop" | "go") => run(`${what.toUpperCase()} ${world}`, async () => {
    await api(`/api/control/${what}`, { method: "POST", body: { world, reason: `${what.toUpperCase()} from the dashboard` } });
    setArmed(false);
    await reload();
  });
  if (paused) {
    return (
      <button className="go" data-testid={`btn-go-${world}`} disabled={busy} onClick={() => control("go")}>
        GO
      </button>
    );
  }
  if (!armed) {
    return (
      <button className="stop" data-testid={`btn-stop-${world}`} disabled={busy} onClick={() => setArmed(true)}>
        STOP
      </button>
    );
  }
  return (
    <span data-testid={`stop-confirm-${world}`}>
      <span className="error small">STOP {world}? {played ? "Players there are frozen until GO." : ""} </span>
      <button className="stop" data-testid={`btn-stop-confirm-${world}`} disabled={busy} onClick={() => control("stop")}>
        Yes, STOP {world}
      </button>{" "}
      <button data-testid={`btn-stop-cancel-${world}`} onClick={() => setArmed(false)}>
        Cancel
      </button>
    </span>
  );
}

export function Control({ world }: { world: string }) {
  const stats = usePoll<Row>("/api/stats", 500);
  const ks = usePoll<Row>("/api/killswitch", 2000);
  const act = useAction();
  const [releasing, setReleasing] = useState(false);
  const worlds = worldsOf(stats.data);
  const switches = Object.entries(ks.data ?? {}).filter(([, v]) => v && typeof v === "object") as [string, Row][];
  const engaged = switches.some(([, v]) => Boolean(v.engaged));
  return (
    <Panel title="Master control" testId="panel-control">
      <div className="row">
        <div className="worlds">
          {worlds.map((w) => (
            <div key={String(w.world)} className="world-stat" data-testid={`world-${String(w.world)}`}>
              <b>{String(w.world)}</b> tick <span data-testid={`tick-${String(w.world)}`}>{String(w.tick)}</span>{" "}
              <span data-testid={`state-${String(w.world)}`} className={w.paused ? "error" : "ok"}>
                {w.paused ? "stopped" : "running"}
              </span>{" "}
              <StopGo world={String(w.world)} played={Boolean(w.played)} paused={Boolean(w.paused)} busy={act.busy} run={act.run} reload={stats.reload} />{" "}
              <span className="muted small">
                p50 {String(w.tick_p50_ms ?? "—")} ms · p95 {String(w.tick_p95_ms ?? "—")} ms · {String(w.ticks_per_second ?? "—")} t/s
              </span>
            </div>
          ))}
          {stats.error && <div className="error">{stats.error}</div>}
        </div>
      </div>
      <Status msg={act.msg} testId="control-status" />

      <h3>Kill-switch</h3>
      <div className="row">
        <span data-testid="killswitch-state" className={engaged ? "error" : "ok"}>
          {ks.data ? (engaged ? "ENGAGED" : "released") : "…"}
        </span>
        {switches.map(([w, v]) => (
          <span key={w} className="muted small" data-testid={`killswitch-${w}`} data-engaged={String(Boolean(v.engaged))}>
            {w}: {v.engaged ? `engaged by ${String(v.actor ?? "?")} (${String(v.reason ?? v.cause ?? "")})` : "released"}
          </span>
        ))}
        {!engaged && (
          <button
            className="danger"
            data-testid="btn-killswitch-engage"
            disabled={act.busy}
            onClick={() => act.run("engage kill-switch", async () => {
              await api("/api/killswitch/engage", { method: "POST", body: { reason: "engaged from the dashboard" } });
              await ks.reload();
            })}
          >
            Engage kill-switch
          </button>
        )}
        {engaged && !releasing && (
          <button data-testid="btn-killswitch-release" onClick={() => setReleasing(true)}>
            Release…
          </button>
        )}
        {engaged && releasing && (
          <TotpPrompt
            label="Release with TOTP"
            testId="killswitch-release"
            onSubmit={(code) =>
              void act.run("release kill-switch", async () => {
                await api("/api/killswitch/release", { method: "POST", body: { totp: code, reason: "released from the dashboard" } });
                setReleasing(false);
                await ks.reload();
              })
            }
          />
        )}
      </div>
      <Director world={world} />
    </Panel>
  );
}

const SLIDERS = ["chaos", "aggression", "expansion"] as const;
const TOGGLES = ["glitch_doors_only", "human_in_the_loop"] as const;

function Director({ world }: { world: string }) {
  const dir = usePoll<Row>(`/api/director?world=${world}`, 3000);
  const act = useAction();
  const [draft, setDraft] = useState<Record<string, number>>({});
  const status = (dir.data ?? {}) as Row;
  const sliders = (status.sliders ?? {}) as Row;
  const toggles = (status.toggles ?? {}) as Row;
  useEffect(() => setDraft({}), [world]);
  const send = (label: string, body: Row) =>
    act.run(label, async () => {
      await api("/api/director", { method: "POST", body: { world, reason: `${label} from the dashboard`, ...body } });
      setDraft({});
      await dir.reload();
    });
  return (
    <div data-testid="director">
      <h3>Director — {world}</h3>
      <div className="row">
        <span data-testid="director-state" className="badge">
          {String(status.mode ?? "…")}
        </span>
        {(["pause", "resume", "stop"] as const).map((a) => (
          <button
            key={a}
            data-testid={`director-${a}`}
            className={a === "stop" ? "danger" : ""}
            onClick={() =>
              act.run(`director ${a}`, async () => {
                await api(`/api/director/${a}`, { method: "POST", body: { world, reason: `${a} from the dashboard` } });
                await dir.reload();
              })
            }
          >
            {a === "stop" ? "emergency stop" : a}
          </button>
        ))}
        <span className="muted small">
          jobs in window {String(status.jobs_in_window ?? "—")} · open expansions {String(status.open_expansions ?? "—")}
        </span>
      </div>
      {SLIDERS.map((name) => {
        const value = draft[name] ?? Number(sliders[name] ?? 50);
        const commit = () => {
          if (draft[name] !== undefined) void send(`set ${name}`, { sliders: { [name]: draft[name] } });
        };
        return (
          <label key={name} className="slider">
            <span>{name}</span>
            <input
              type="range"
              min={0}
              max={100}
              value={value}
              data-testid={`slider-${name}`}
              onChange={(e) => setDraft((d) => ({ ...d, [name]: Number(e.target.value) }))}
              onMouseUp={commit}
              onKeyUp={commit}
              onTouchEnd={commit}
            />
            <span data-testid={`slider-${name}-value`}>{value}</span>
          </label>
        );
      })}
      {TOGGLES.map((name) => (
        <label key={name} className="toggle">
          <input
            type="checkbox"
            data-testid={`toggle-${name}`}
            checked={Boolean(toggles[name])}
            onChange={(e) => {
              const on = e.target.checked;
              // letting proposals through without review is an override: the server asks for TOTP
              if (name === "human_in_the_loop" && !on) {
                const totp = window.prompt("TOTP code to let proposals through without review");
                if (!totp) return;
                void send(`set ${name}`, { toggles: { [name]: on }, totp: totp.trim() });
                return;
              }
              void send(`set ${name}`, { toggles: { [name]: on } });
            }}
          />
          {name.replace(/_/g, " ")}
        </label>
      ))}
      <Status msg={act.msg} testId="director-status" />
      {dir.error && <div className="error">{dir.error}</div>}
    </div>
  );
}
