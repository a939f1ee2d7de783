// The ledger of a world, one row per patch, newest first: what it was (its content, named), who
// submitted it, its scope (the domains it touches), its state and when it last changed; its raw
// hash-chained entries are one click away. "Roll back to here" and "roll back one patch" each
// ask twice before they act.

import { Fragment, useState } from "react";
import { api, asList } from "./api";
import { Confirm2, Json, Panel, Status, str, useAction, usePoll, type Row } from "./ui";

function who(p: Row, entries: Row[]): string {
  const first = entries[entries.length - 1]; // entries are newest first
  const author = (p.author ?? {}) as Row;
  const by = str(first?.actor);
  const kind = str(author.type);
  const model = str(author.model);
  return [by, kind && kind !== by ? `(${kind}${model ? `: ${model}` : ""})` : ""].filter(Boolean).join(" ");
}

function when(entries: Row[], p: Row): string {
  return str(entries[0]?.at ?? p.created_at)
    .slice(0, 19)
    .replace("T", " ");
}

export function Ledger({ world }: { world: string }) {
  const led = usePoll<unknown>(`/api/ledger?world=${world}&limit=1000`, 3000);
  const muts = usePoll<unknown>(`/api/mutations?world=${world}&limit=200`, 3000);
  const act = useAction();
  const [open, setOpen] = useState<string | null>(null);
  const entries = asList<Row>(led.data, "entries", "ledger", "events"); // newest first
  const patches = asList<Row>(muts.data); // newest first
  const pointer = ((led.data as Row | null)?.pointer ?? {}) as Row;
  const byPatch = new Map<string, Row[]>();
  for (const e of entries) {
    const pid = str(e.patch_id);
    if (!pid) continue;
    byPatch.set(pid, [...(byPatch.get(pid) ?? []), e]);
  }
  const rollback = (to: string | null) =>
    act.run(to ? `roll back to ${to}` : "roll back", async () => {
      const body: Row = { world, reason: "rollback from the dashboard" };
      if (to) body.to = to;
      await api("/api/rollback", { method: "POST", body });
      await led.reload();
      await muts.reload();
    });
  const reasonOf = (es: Row[]) => str(es.find((e) => str(e.reason))?.reason);
  return (
    <Panel title={`Ledger — ${world}`} testId="panel-ledger">
      <div className="row">
        <Confirm2 label="Roll back one patch" testId="ledger-rollback" onConfirm={() => void rollback(null)} />
        <span className="small">
          active version: <code data-testid="ledger-active">{str(pointer.active) || "base"}</code>
        </span>
      </div>
      <Status msg={act.msg} testId="ledger-status" />
      {(led.error || muts.error) && <div className="error">{led.error ?? muts.error}</div>}
      {patches.length === 0 && <p className="muted">No patches yet: the world runs its base version.</p>}
      <table className="grid-table ledger" data-testid="ledger-list">
        <thead>
          <tr>
            <th>#</th>
            <th>what</th>
            <th>who</th>
            <th>scope</th>
            <th>state</th>
            <th>when</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {patches.map((p) => {
            const pid = str(p.patch_id);
            const es = byPatch.get(pid) ?? [];
            const state = str(p.state);
            const isActive = pid === str(pointer.active);
            return (
              <Fragment key={pid}>
                <tr data-testid="ledger-patch" data-patch={pid} data-state={state} className={isActive ? "current" : ""}>
                  <td>{str(p.sequence)}</td>
                  <td>
                    <div data-testid="ledger-what">{str(p.what)}</div>
                    {(str(p.announcement) || reasonOf(es)) && <div className="small muted">{str(p.announcement) || reasonOf(es)}</div>}
                  </td>
                  <td>{who(p, es)}</td>
                  <td>{asList<string>(p.domains).join(", ")}</td>
                  <td>
                    <span className={`badge state-${state}`}>{state}</span>
                    {isActive && <span className="badge">live</span>}
                  </td>
                  <td className="small">{when(es, p)}</td>
                  <td>
                    <button data-testid="ledger-raw-toggle" onClick={() => setOpen(open === pid ? null : pid)}>
                      {open === pid ? "hide" : `${es.length} entries`}
                    </button>{" "}
                    {(state === "superseded" || state === "active") && !isActive && (
                      <Confirm2 label="Roll back to here" testId={`ledger-to-${pid.slice(0, 12)}`} onConfirm={() => void rollback(pid)} />
                    )}
                  </td>
                </tr>
                {open === pid && (
                  <tr data-testid="ledger-raw">
                    <td colSpan={7}>
                      <div className="small">
                        patch <code>{pid}</code>
                      </div>
                      <ol className="timeline">
                        {es.map((e, i) => (
                          <li key={`${str(e.seq ?? i)}`} data-testid="ledger-entry" data-event={`${str(e.kind)}${e.after != null ? ` → ${str(e.after)}` : ""}`}>
                            <span className="muted small">
                              #{str(e.seq)} {str(e.at)}
                            </span>{" "}
                            <b>
                              {str(e.kind)}
                              {e.after != null ? ` → ${str(e.after)}` : ""}
                            </b>{" "}
                            {str(e.actor)} <span className="muted">{str(e.reason)}</span>
                            <Json value={e} />
                          </li>
                        ))}
                      </ol>
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </Panel>
  );
}
