// The staged rollout of a world: each stage of the plan (the current one marked), why it holds, the
// checks with their limits and margins, each arm's metric over the judged windows (treatment in
// pink, control in cyan), and the operator's actions. A forced promotion asks for a TOTP code.

import { useState } from "react";
import { api } from "./api";
import { Confirm2, Panel, Status, TotpPrompt, str, useAction, usePoll, type Row } from "./ui";

type Check = { metric: string; limit: number | null; margin: number | null; treatment?: number | null; control?: number | null; passed?: boolean; why?: string };

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function ArmChart({ metric, windows }: { metric: string; windows: Check[][] }) {
  const w = 260;
  const h = 60;
  const t = windows.map((cs) => num(cs.find((c) => c.metric === metric)?.treatment));
  const c = windows.map((cs) => num(cs.find((c) => c.metric === metric)?.control));
  const all = [...t, ...c].filter((v): v is number => v !== null);
  const min = all.length ? Math.min(...all) : 0;
  const span = (all.length ? Math.max(...all) : 1) - min || 1;
  const line = (vs: (number | null)[]) =>
    vs
      .map((v, i) => (v === null ? null : `${(i / Math.max(1, vs.length - 1)) * w},${h - 4 - ((v - min) / span) * (h - 8)}`))
      .filter(Boolean)
      .join(" ");
  return (
    <figure className="chart" data-testid={`rollout-chart-${metric}`}>
      <figcaption>
        {metric} <b style={{ color: "var(--pink)" }}>{str(t[t.length - 1])}</b> / <b>{str(c[c.length - 1])}</b>
      </figcaption>
      <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`}>
        <polyline fill="none" stroke="var(--accent)" strokeWidth={1.5} points={line(c)} />
        <polyline fill="none" stroke="var(--pink)" strokeWidth={1.5} points={line(t)} />
      </svg>
    </figure>
  );
}

function StartForm({ world, done }: { world: string; done: () => Promise<void> }) {
  const act = useAction();
  const [patch, setPatch] = useState("");
  const [plan, setPlan] = useState("1,10,50,100");
  const [windowTicks, setWindowTicks] = useState("600");
  const [minExposures, setMinExposures] = useState("20");
  const start = () =>
    act.run("start rollout", async () => {
      await api("/api/rollouts", {
        method: "POST",
        body: {
          world,
          patch_id: patch.trim(),
          plan,
          window_ticks: Number(windowTicks),
          min_exposures: Number(minExposures),
          reason: "staged rollout from the dashboard",
        },
      });
      await done();
    });
  return (
    <div className="row">
      <input data-testid="rollout-patch" placeholder="validated patch id" value={patch} onChange={(e) => setPatch(e.target.value)} />
      <input data-testid="rollout-plan" value={plan} onChange={(e) => setPlan(e.target.value)} title="treatment percentages" />
      <input data-testid="rollout-window" value={windowTicks} onChange={(e) => setWindowTicks(e.target.value)} title="ticks per window" size={6} />
      <input data-testid="rollout-exposures" value={minExposures} onChange={(e) => setMinExposures(e.target.value)} title="exposures each arm needs" size={4} />
      <button data-testid="rollout-start" disabled={!patch.trim() || act.busy} onClick={() => void start()}>
        start rollout
      </button>
      <Status msg={act.msg} testId="rollout-start-status" />
    </div>
  );
}

export function Rollouts({ world }: { world: string }) {
  const poll = usePoll<Row>(`/api/rollouts?world=${world}`, 3000);
  const act = useAction();
  const data = poll.data ?? {};
  const rollout = (data.rollout ?? null) as Row | null;
  const history = (Array.isArray(data.history) ? data.history : []) as Row[];
  const windows = history.filter((h) => h.kind === "rollout_window").map((h) => ((h.evidence as Row)?.checks ?? []) as Check[]);
  const send = (what: string, body: Row = {}) =>
    act.run(what, async () => {
      await api(`/api/rollouts/${what}`, { method: "POST", body: { world, reason: `${what} from the dashboard`, ...body } });
      await poll.reload();
    });
  const plan = (rollout?.plan ?? {}) as Row;
  const stages = (Array.isArray(plan.percents) ? plan.percents : []) as number[];
  const checks = (Array.isArray(plan.checks) ? plan.checks : []) as Check[];
  const last = windows[windows.length - 1] ?? [];
  const live = rollout !== null && (rollout.phase === "running" || rollout.phase === "paused");
  return (
    <Panel title={`Rollouts — ${world}`} testId="panel-rollouts">
      {poll.error && <div className="error">{poll.error}</div>}
      {!live && <StartForm world={world} done={poll.reload} />}
      {rollout === null ? (
        <div className="muted" data-testid="rollout-none">
          no rollout in this world
        </div>
      ) : (
        <>
          <div data-testid="rollout-summary">
            <code>{str(rollout.rollout_id)}</code> of <code>{str(rollout.patch_id).slice(0, 16)}</code>:{" "}
            <b data-testid="rollout-phase">{str(rollout.phase)}</b>, failed windows {str(rollout.failed_checks)}/{str(plan.threshold)}
            {data.hold ? <div className="muted small">holds: {str(data.hold)}</div> : null}
          </div>
          <div className="row" data-testid="rollout-stages">
            {stages.map((p, i) => (
              <span
                key={i}
                data-testid="rollout-stage"
                className={i === rollout.stage ? "active" : i < Number(rollout.stage) ? "muted" : ""}
                style={i === rollout.stage ? { color: "var(--accent)", fontWeight: "bold" } : undefined}
              >
                {i > 0 ? "→ " : ""}
                {p}%
              </span>
            ))}
          </div>
          {live && (
            <div className="row">
              <button data-testid="rollout-pause" onClick={() => void send("pause")} disabled={rollout.phase !== "running"}>
                pause
              </button>
              <button data-testid="rollout-resume" onClick={() => void send("resume")} disabled={rollout.phase !== "paused"}>
                resume
              </button>
              <button data-testid="rollout-promote" onClick={() => void send("promote")}>
                promote
              </button>
              <Confirm2 label="Abort" testId="rollout-abort" onConfirm={() => void send("abort")} />
              <TotpPrompt label="force promotion" testId="rollout-force" onSubmit={(code) => void send("promote", { force: true, totp: code })} />
            </div>
          )}
          <Status msg={act.msg} testId="rollout-status" />
          <table className="players" data-testid="rollout-checks">
            <thead>
              <tr>
                <th>check</th>
                <th>limit</th>
                <th>margin over control</th>
                <th>treatment</th>
                <th>control</th>
                <th>last window</th>
              </tr>
            </thead>
            <tbody>
              {checks.map((c) => {
                const seen = last.find((l) => l.metric === c.metric);
                return (
                  <tr key={c.metric} data-testid="rollout-check">
                    <td>{c.metric}</td>
                    <td>{str(c.limit) || "—"}</td>
                    <td>{str(c.margin) || "—"}</td>
                    <td>{str(seen?.treatment)}</td>
                    <td>{str(seen?.control)}</td>
                    <td className={seen ? (seen.passed ? "ok" : "error") : "muted"}>{seen ? (seen.passed ? "pass" : seen.why) : "not judged"}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {windows.length === 0 ? (
            <div className="muted small">no window judged yet: each arm's metrics chart here, window by window</div>
          ) : (
            <div className="charts">
              {checks.map((c) => (
                <ArmChart key={c.metric} metric={c.metric} windows={windows} />
              ))}
            </div>
          )}
          <ol className="timeline" data-testid="rollout-history">
            {history.map((h) => (
              <li key={str(h.seq)} data-testid="rollout-event" data-kind={str(h.kind)}>
                <span className="muted small">
                  #{str(h.seq)} {str(h.at)}
                </span>{" "}
                <b>{str(h.kind)}</b> {str(h.before)} → {str(h.after)} <span className="muted">{str(h.reason)}</span>
              </li>
            ))}
          </ol>
        </>
      )}
    </Panel>
  );
}
