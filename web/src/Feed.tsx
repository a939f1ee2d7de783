// The director log (each decision with its "why") and the evolution feed (cycles of the petri
// evolution loop: trigger, plan, candidate, evaluation, accepted/rejected, swapped).

import { api, asList } from "./api";
import { Panel, Status, str, useAction, usePoll, type Row } from "./ui";

function Why({ e }: { e: Row }) {
  const why = e.why ?? e.reason ?? e.rationale;
  return <span className="why">{typeof why === "string" ? why : why ? JSON.stringify(why) : ""}</span>;
}

export function DirectorLog({ world }: { world: string }) {
  const dir = usePoll<Row>(`/api/director?world=${world}`, 3000);
  const feed = usePoll<unknown>("/api/feed?limit=200", 2000);
  const decisions = asList<Row>(dir.data?.decisions ?? [], "decisions");
  const events = asList<Row>(feed.data, "events", "feed").filter((e) => str(e.kind) === "director");
  const rows = [...decisions, ...events];
  return (
    <Panel title={`Director log — ${world}`} testId="panel-director-log">
      {(dir.error || feed.error) && <div className="error">{dir.error ?? feed.error}</div>}
      {rows.length === 0 && <p className="muted">No decisions yet.</p>}
      <ol className="timeline" data-testid="director-log">
        {rows.map((e, i) => (
          <li key={str(e.id ?? e.seq ?? i)}>
            <span className="muted small">
              {str(e.at ?? e.time)} {e.tick !== undefined ? `tick ${str(e.tick)}` : ""}
            </span>{" "}
            <b>{str(e.rule ?? e.action ?? e.kind)}</b> {str(e.outcome)} {str(e.job_type)} {str(e.world)} {str(e.actor)} — <Why e={e} />
          </li>
        ))}
      </ol>
    </Panel>
  );
}

function EvolutionRow({ e }: { e: Row }) {
  // a live feed message wraps the loop's event: {kind: "evolution", event: {type, tick, cycle, ...}}
  const ev = (e.event && typeof e.event === "object" ? e.event : e) as Row;
  const what = str(ev.type ?? ev.action ?? e.action ?? ev.stage);
  const detail = [ev.trait_id, ev.version, ev.origin, ev.stage, ev.fitness !== undefined ? `fitness ${str(ev.fitness)}` : "", ev.patch_id, ev.reason ?? e.reason]
    .filter((x) => x !== undefined && x !== null && x !== "")
    .map(str)
    .join(" · ");
  const reasons = Array.isArray(ev.reasons) && ev.reasons.length ? ` — ${ev.reasons.map(str).join("; ")}` : "";
  return (
    <li data-testid="evolution-event" data-type={what}>
      <span className="muted small">
        {ev.cycle !== undefined ? `cycle ${str(ev.cycle)} ` : ""}
        {ev.tick !== undefined ? `tick ${str(ev.tick)}` : str(e.at)}
      </span>{" "}
      <b>{what}</b> <span>{detail}</span>
      <span className="error">{reasons}</span>
    </li>
  );
}

export function EvolutionFeed({ live }: { live: Row[] }) {
  const hist = usePoll<unknown>("/api/evolution/history", 4000);
  const act = useAction();
  const feed = usePoll<unknown>("/api/feed?limit=300", 2000);
  const history = asList<Row>(hist.data, "history", "events", "cycles");
  const recent = asList<Row>(feed.data, "events", "feed");
  const seen = new Set(recent.map((e) => str(e.seq)));
  const events = [...recent, ...live.filter((e) => !seen.has(str(e.seq)))]
    .filter((e) => str(e.kind) === "evolution")
    .sort((a, b) => Number(b.seq ?? 0) - Number(a.seq ?? 0));
  const rows = [...events, ...history]; // newest first
  return (
    <Panel title="Evolution feed" testId="panel-evolution">
      <button
        data-testid="evolution-trigger"
        disabled={act.busy}
        onClick={() =>
          act.run("trigger evolution", async () => {
            await api("/api/evolution/trigger", { method: "POST", body: { reason: "triggered from the dashboard" } });
            await hist.reload();
          })
        }
      >
        Trigger an evolution cycle
      </button>
      <Status msg={act.msg} testId="evolution-status" />
      {hist.error && <div className="error">{hist.error}</div>}
      <ol className="timeline" data-testid="evolution-feed">
        {rows.slice(0, 200).map((e, i) => (
            <EvolutionRow key={i} e={e} />
          ))}
      </ol>
    </Panel>
  );
}
