// Snapshots of a world: take one, list them, restore one (a privileged override: TOTP), delete one.

import { useState } from "react";
import { api, asList } from "./api";
import { Confirm2, Panel, Status, TotpPrompt, str, useAction, usePoll, type Row } from "./ui";

type Mode = "world_only" | "everything";

// Before the second confirmation: the restore's mode, and what it takes from each player.
function RestoreCost(props: { world: string; id: string; mode: Mode; setMode: (m: Mode) => void }) {
  const { world, id, mode, setMode } = props;
  const cost = usePoll<Row>(`/api/snapshots/${encodeURIComponent(id)}/restore-preview?world=${world}&mode=${mode}`, 5000);
  const players = asList<Row>(cost.data?.players, "players");
  const totals = (cost.data?.totals ?? {}) as Row;
  return (
    <div data-testid="snapshot-restore-cost" className="small">
      <select data-testid="snapshot-restore-mode" value={mode} onChange={(e) => setMode(e.target.value as Mode)}>
        <option value="world_only">world only: players keep their characters</option>
        <option value="everything">everything: players lose what they gained since</option>
      </select>
      {cost.error && <div className="error">{cost.error}</div>}
      <div data-testid="snapshot-restore-totals">
        players lose: xp {str(totals.xp ?? 0)}, credits {str(totals.credits ?? 0)}, items {str(totals.items ?? 0)}, jobs{" "}
        {str(totals.jobs ?? 0)}, characters {str(totals.characters_lost ?? 0)}
      </div>
      {players
        .filter((p) => p.character_lost || Number(p.xp) || Number(p.credits) || Number(p.items) || Number(p.jobs))
        .map((p) => (
          <div key={str(p.player)} className="muted">
            {str(p.player)}:{" "}
            {p.character_lost
              ? "the whole character"
              : `xp ${str(p.xp)}, credits ${str(p.credits)}, items ${str(p.items)}, jobs ${str(p.jobs)}`}
          </div>
        ))}
    </div>
  );
}

export function Snapshots({ world }: { world: string }) {
  const snaps = usePoll<unknown>(`/api/snapshots?world=${world}`, 5000);
  const act = useAction();
  const [label, setLabel] = useState("");
  const [restoring, setRestoring] = useState<string | null>(null);
  const [mode, setMode] = useState<Mode>("world_only");
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
                    <div>
                      <RestoreCost world={world} id={id} mode={mode} setMode={setMode} />
                      <TotpPrompt
                        label={mode === "everything" ? "Restore everything" : "Restore the world only"}
                        testId="snapshot-restore"
                        onSubmit={(code) =>
                          void act.run(`restore ${id}`, async () => {
                            await api(`/api/snapshots/${encodeURIComponent(id)}/restore?mode=${mode}`, {
                              method: "POST",
                              body: { world, totp: code, reason: "restore from the dashboard" },
                            });
                            setRestoring(null);
                          })
                        }
                      />
                    </div>
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
