// The director log (each decision with its "why") and the evolution feed (cycles of the petri
// evolution loop: trigger, plan, candidate, evaluation, accepted/rejected, swapped). Both read the
// durable event log (/api/events), so they resume where they were after a reload or a restart.

import { api, asList } from "./api";
import { Panel, Status, str, useAction, usePoll, type Row } from "./ui";

/** The "why" of a decision, readable: the store keeps it as JSON text; nested objects are shown
 * one level deep (k=v), an error by its message. */
function parseWhy(raw: unknown): unknown {
  if (typeof raw !== "string") return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function compact(v: unknown): string {
  if (v === null || typeof v !== "object") return str(v);
  if (Array.isArray(v)) return v.map(compact).join(", ");
  return Object.entries(v as Row)
    .filter(([, x]) => x !== null && typeof x !== "object")
    .map(([k, x]) => `${k}=${str(x)}`)
    .join(" ");
}

function Why({ e }: { e: Row }) {
  const ev = e.event && typeof e.event === "object" ? (e.event as Row) : null;
  const why = parseWhy(e.why ?? e.reason ?? ev?.reason ?? e.rationale);
  if (!why || typeof why !== "object") return <span className="why">{str(why)}</span>;
  const w = why as Row;
  const err = w.error && typeof w.error === "object" ? str((w.error as Row).message) : "";
  const parts = Object.entries(w)
    .filter(([k]) => k !== "error")
    .map(([k, v]) => (v !== null && typeof v === "object" ? `${k}: {${compact(v)}}` : `${k}: ${str(v)}`));
  return (
    <span className="why">
      {err && <span className="error">{err} · </span>}
      {parts.join(" · ")}
    </span>
  );
}

/** The short why of a decision, as the CLI's `director log` says it: what suppressed it, why
 * enrichment fell back, what the storyteller chose, else the job. */
function whyLine(e: Row): string {
  const why = parseWhy(e.why);
  const w = (why && typeof why === "object" ? why : {}) as Row;
  if (typeof why === "string") return why;
  if (w.suppressed_by) return `held back: ${str(w.suppressed_by)}`;
  if (w.why) return str(w.why);
  if (str(e.rule) === "ensemble") return `chose ${str(w.choice)} (votes ${compact(w.votes)})`;
  if (w.guardrails_invalid) return `guardrails file invalid: ${str(w.guardrails_invalid)}`;
  if (w.error && typeof w.error === "object") return `failed: ${str((w.error as Row).message)}`;
  if (str(e.rule) === "enrich") {
    const calls = Array.isArray(w.calls) ? w.calls.length : 0;
    return `words enriched by ${str(w.model) || "the model"}${calls ? ` in ${calls} call${calls > 1 ? "s" : ""}` : ""} for ${str(w.proposal_id)}`;
  }
  // the rule's own readings (what it saw), then the job it started
  const seen = Object.entries(w)
    .filter(([k, v]) => !["job", "calls", "proposal_id"].includes(k) && v !== null && typeof v !== "object")
    .map(([k, v]) => `${k.replace(/_/g, " ")} ${str(v)}`)
    .join(", ");
  const job = w.job && typeof w.job === "object" ? (w.job as Row) : null;
  const started = job ? `started ${str(job.type).toLowerCase()} job ${str(job.job_id)}` : str(e.job_id ?? w.proposal_id ?? "");
  return [seen, started].filter(Boolean).join(" → ");
}

const OUTCOME_CLASS: Record<string, string> = { started: "ok", done: "ok", suppressed: "muted", failed: "error", refused: "error" };

export function DirectorLog({ world }: { world: string }) {
  const dir = usePoll<Row>(`/api/director?world=${world}`, 3000);
  const feed = usePoll<unknown>("/api/events?limit=200", 2000);
  const decisions = asList<Row>(dir.data?.decisions ?? [], "decisions").map((d): Row => ({ ...d, source: "director" }));
  // operator actions and council results on the feed
  const events = asList<Row>(feed.data, "events", "feed")
    .filter((e) => str(e.kind) === "director" && (e.world === world || e.world == null))
    .map((e): Row => ({ ...e, source: "feed" }));
  // the director's own decisions by tick, newest first; then what people and the council did, newest first
  const rows = [...decisions.sort((a, b) => Number(b.seq ?? 0) - Number(a.seq ?? 0)), ...events.reverse()];
  return (
    <Panel title={`Director log — ${world}`} testId="panel-director-log">
      {(dir.error || feed.error) && <div className="error">{dir.error ?? feed.error}</div>}
      {rows.length === 0 && <p className="muted">No decisions yet.</p>}
      <ol className="timeline director" data-testid="director-log">
        {rows.map((e, i) => {
          const ev = e.event && typeof e.event === "object" ? (e.event as Row) : null;
          const what = str(e.rule ?? e.action ?? (ev ? str(ev.type ?? "council") : e.kind));
          const outcome = str(e.outcome ?? ev?.state);
          const why = e.source === "director" ? whyLine(e) : str(e.reason ?? ev?.reason ?? ev?.summary ?? "");
          return (
            <li key={`${str(e.source)}-${str(e.seq ?? i)}`} data-testid="director-decision" className="card">
              <div className="row">
                <span className="muted small">
                  {str(e.at ?? e.time).slice(0, 19).replace("T", " ")} {e.tick !== undefined ? `tick ${str(e.tick)}` : ""}
                </span>
                <b>{what}</b>
                {outcome && <span className={`badge ${OUTCOME_CLASS[outcome] ?? ""}`}>{outcome}</span>}
                {str(e.job_type) && <span className="badge">{str(e.job_type)}</span>}
                {str(e.actor) && <span className="small">by {str(e.actor)}</span>}
              </div>
              <div className="why">because: {why || "—"}</div>
              {e.source === "director" && (
                <details className="small">
                  <summary>details</summary>
                  <Why e={e} />
                </details>
              )}
              {e.source === "feed" && ev && (
                <details className="small">
                  <summary>details</summary>
                  <span className="why">{compact(ev)}</span>
                </details>
              )}
            </li>
          );
        })}
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
  const reasons =
    Array.isArray(ev.reasons) && ev.reasons.length
      ? ` — ${ev.reasons.map((r) => (r && typeof r === "object" ? `${str((r as Row).code)}: ${str((r as Row).message)}` : str(r))).join("; ")}`
      : "";
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
  const feed = usePoll<unknown>("/api/events?limit=300", 2000);
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
