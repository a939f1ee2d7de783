// Snapshots of a world: take one, list them, restore one (a privileged override: TOTP), delete one.

import { useState } from "react";
import { api, asList } from "./api";
import { Confirm2, Panel, Status, TotpPrompt, str, useAction, usePoll, type Row } from "./ui";

export function Snapshots({ world }: { world: string }) {
  const snaps = usePoll<unknown>(`/api/snapshots?world=${world}`, 5000);
  const act = useAction();
  const [label, setLabel] = useState("");
  const [restoring, setRestoring] = useState<string | null>(null);
  const items = asList<Row>(snaps.data, "snapshots");
  return (
    <Panel title={`Snapshots — ${world}`} testId="panel-snapshots">
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void act.run("snapshot", async () => {
            await api("/api/snapshots", { method: "POST", body: { world, label: label || "dashboard", reason: "snapshot from the dashboard" } });
            setLabel("");
            await snaps.reload();
          });
        }}
      >
        <input data-testid="snapshot-label" placeholder="label" value={label} onChange={(e) => setLabel(e.target.value)} />
        <button data-testid="snapshot-create" type="submit" disabled={act.busy}>
          Take snapshot
        </button>
      </form>
      <Status msg={act.msg} testId="snapshot-status" />
      {snaps.error && <div className="error">{snaps.error}</div>}
      <table data-testid="snapshot-list">
        <thead>
          <tr>
            <th>id</th>
            <th>tick</th>
            <th>label</th>
            <th>by</th>
            <th>when</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {[...items].reverse().map((s) => {
            const id = str(s.id);
            return (
              <tr key={id} data-testid={`snapshot-${id}`}>
                <td>
                  <code>{id}</code>
                </td>
                <td>{str(s.tick)}</td>
                <td>{str(s.label)}</td>
                <td>{str(s.actor)}</td>
                <td className="small muted">{str(s.created_at)}</td>
                <td>
                  {restoring === id ? (
                    <TotpPrompt
                      label="Restore"
                      testId="snapshot-restore"
                      onSubmit={(code) =>
                        void act.run(`restore ${id}`, async () => {
                          await api(`/api/snapshots/${encodeURIComponent(id)}/restore`, {
                            method: "POST",
                            body: { world, totp: code, reason: "restore from the dashboard" },
                          });
                          setRestoring(null);
                        })
                      }
                    />
                  ) : (
                    <button data-testid="snapshot-restore" onClick={() => setRestoring(id)}>
                      Restore…
                    </button>
                  )}
                  <Confirm2
                    label="Delete"
                    testId="snapshot-delete"
                    onConfirm={() =>
                      void act.run(`delete ${id}`, async () => {
                        await api(`/api/snapshots/${encodeURIComponent(id)}?world=${world}&reason=${encodeURIComponent("deleted from the dashboard")}`, { method: "DELETE" });
                        await snaps.reload();
                      })
                    }
                  />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Panel>
  );
}
