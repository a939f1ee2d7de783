// The ledger timeline of a world, newest first: every patch event with its actor and reason.
// "Roll back to here" and "undo this patch" each ask twice before they act.

import { api, asList } from "./api";
import { Confirm2, Panel, Status, str, useAction, usePoll, type Row } from "./ui";

export function Ledger({ world }: { world: string }) {
  const led = usePoll<unknown>(`/api/ledger?world=${world}`, 3000);
  const act = useAction();
  const entries = asList<Row>(led.data, "entries", "ledger", "events"); // newest first
  const pointer = ((led.data as Row | null)?.pointer ?? {}) as Row;
  const rollback = (to: string | null) =>
    act.run(to ? `roll back to ${to}` : "roll back", async () => {
      const body: Row = { world, reason: "rollback from the dashboard" };
      if (to) body.to = to;
      await api("/api/rollback", { method: "POST", body });
      await led.reload();
    });
  return (
    <Panel title={`Ledger — ${world}`} testId="panel-ledger">
      <div className="row">
        <Confirm2 label="Roll back one patch" testId="ledger-rollback" onConfirm={() => void rollback(null)} />
      </div>
      <div className="small">
        active version: <code data-testid="ledger-active">{str(pointer.active) || "base"}</code>
      </div>
      <Status msg={act.msg} testId="ledger-status" />
      {led.error && <div className="error">{led.error}</div>}
      <ol className="timeline" data-testid="ledger-list">
        {entries.map((e, i) => {
          const pid = str(e.patch_id);
          const event = `${str(e.kind)}${e.after != null ? ` → ${str(e.after)}` : ""}`;
          return (
            <li key={`${str(e.seq ?? i)}-${pid}`} data-testid="ledger-entry" data-event={event} data-patch={pid}>
              <span className="muted small">#{str(e.seq)} {str(e.at)}</span> <b>{event}</b> <code>{pid.slice(0, 16)}</code>{" "}
              <span>{str(e.actor)}</span> <span className="muted">{str(e.reason)}</span>
              {pid && str(e.kind) === "transition" && str(e.after) === "active" && pid !== str(pointer.active) && (
                <Confirm2 label="Roll back to here" testId={`ledger-to-${pid.slice(0, 12)}`} onConfirm={() => void rollback(pid)} />
              )}
            </li>
          );
        })}
      </ol>
    </Panel>
  );
}
