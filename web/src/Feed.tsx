// The director log (each decision with its "why") and the evolution feed (cycles of the petri
// evolution loop: trigger, plan, candidate, evaluation, accepted/rejected, swapped).

import { api, asList } from "./api";
import { Panel, Status, str, useAction, usePoll, type Row } from "./ui";

function Why({ e }: { e: Row }) {
  const why = e.why ?? e.reason ?? e.rationale;
  return <span className="why">{typeof why === "string" ? why : why ? JSON.stringify(why) : ""}</span>;
}

export function DirectorLog() {
  const dir = usePoll<Row>("/api/director", 3000);
  const feed = usePoll<unknown>("/api/feed?limit=200", 2000);
  const decisions = asList<Row>(dir.data?.decisions ?? [], "decisions");
  const events = asList<Row>(feed.data, "events", "feed").filter((e) => str(e.kind).startsWith("director") || "why" in e);
  const rows = decisions.length ? decisions : events;
  return (
    <Panel title="Director log" testId="panel-director-log">
      {(dir.error || feed.error) && <div className="error">{dir.error ?? feed.error}</div>}
      {rows.length === 0 && <p className="muted">No decisions yet.</p>}
      <ol className="timeline" data-testid="director-log">
        {[...rows].reverse().map((e, i) => (
          <li key={str(e.id ?? e.seq ?? i)}>
            <span className="muted small">
              {str(e.at ?? e.time)} {e.tick !== undefined ? `tick ${str(e.tick)}` : ""}
            </span>{" "}
            <b>{str(e.decision ?? e.action ?? e.kind)}</b> {str(e.world)} — <Why e={e} />
          </li>
        ))}
      </ol>
    </Panel>
  );
}

export function EvolutionFeed({ live }: { live: Row[] }) {
  const hist = usePoll<unknown>("/api/evolution/history", 4000);
  const act = useAction();
  const history = asList<Row>(hist.data, "history", "events", "cycles");
  const rows = [...history, ...live.filter((e) => str(e.kind).startsWith("evolution"))];
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
        {rows
          .slice(-200)
          .reverse()
          .map((e, i) => (
            <li key={i}>
              <span className="muted small">{str(e.at ?? e.tick)}</span> <b>{str(e.event ?? e.stage ?? e.kind)}</b>{" "}
              <span>{str(e.summary ?? e.message ?? e.reason ?? e.result)}</span>
            </li>
          ))}
      </ol>
    </Panel>
  );
}
