// The approval queue: each waiting proposal with its diff (the content before and after the
// validation pipeline, and the validation verdict), then approve, edit (a JSON merge patch on the
// payload) or reject; a decided one can be undone.

import { useState } from "react";
import { api, asList } from "./api";
import { Confirm2, Json, Panel, Status, str, useAction, usePoll, type Row } from "./ui";

function idOf(item: Row): string {
  return str(item.proposal_id ?? item.id);
}

/** Lines of `before` and `after` (pretty JSON) side by side, changed lines marked. */
export function Diff({ before, after }: { before: unknown; after: unknown }) {
  const a = JSON.stringify(before ?? null, null, 2).split("\n");
  const b = JSON.stringify(after ?? null, null, 2).split("\n");
  const sa = new Set(a);
  const sb = new Set(b);
  return (
    <div className="diff" data-testid="diff">
      <pre>
        {a.map((l, i) => (
          <div key={i} className={sb.has(l) ? "" : "del"}>
            {l}
          </div>
        ))}
      </pre>
      <pre>
        {b.map((l, i) => (
          <div key={i} className={sa.has(l) ? "" : "add"}>
            {l}
          </div>
        ))}
      </pre>
    </div>
  );
}

interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

/** The proposal as generated and as validated (enriched, edited, checked): the changed fields
 * first (JSON pointers), then both payloads side by side. */
function ServerDiff({ world, id }: { world: string; id: string }) {
  const d = usePoll<{ changes?: FieldChange[]; generated?: unknown; validated?: unknown }>(
    `/api/queue/${encodeURIComponent(id)}/diff?world=${world}`,
    0,
  );
  if (d.error) return <div className="error">{d.error}</div>;
  if (!d.data) return <div className="muted">…</div>;
  const changes = (d.data.changes ?? []).filter((c) => c && typeof c === "object" && "path" in c);
  return (
    <div data-testid="queue-diff-body">
      {changes.length === 0 ? (
        <div className="muted small">validation changed nothing</div>
      ) : (
        <table className="small" data-testid="queue-diff-changes">
          <tbody>
            {changes.map((c) => (
              <tr key={c.path}>
                <td>
                  <code>{c.path}</code>
                </td>
                <td className="del">{str(c.before)}</td>
                <td className="add">{str(c.after)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="small">as generated → as validated</div>
      <Diff before={d.data.generated} after={d.data.validated} />
    </div>
  );
}

function QueueItem({ item, world, reload }: { item: Row; world: string; reload: () => Promise<void> }) {
  const id = idOf(item);
  const act = useAction();
  const [editing, setEditing] = useState(false);
  const [edit, setEdit] = useState("");
  const proposal = (item.proposal ?? {}) as Row;
  const [open, setOpen] = useState(false);
  const [edits, setEdits] = useState(0); // remount the diff after an edit
  const state = str(item.state ?? item.status);
  const post = (verb: string, body: Row) =>
    act.run(`${verb} ${id}`, async () => {
      await api(`/api/queue/${encodeURIComponent(id)}/${verb}`, {
        method: "POST",
        body: { world, reason: `${verb} from the dashboard`, ...body },
      });
      await reload();
    });
  return (
    <li className="card" data-testid={`queue-item-${id}`} data-state={state}>
      <div className="row">
        <b>{str(item.type ?? proposal.type)}</b> <span className="muted">{id}</span>
        <span data-testid="queue-item-state" className="badge">
          {state}
        </span>
        <span>{str(item.summary ?? proposal.summary)}</span>
        {item.patch_id != null && <code className="small">{str(item.patch_id).slice(0, 18)}</code>}
      </div>
      {str(item.reason) && <div className="small muted">{str(item.reason)}</div>}
      <details data-testid="queue-diff" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
        <summary>diff: the proposal as generated → as validated (what the pipeline and edits changed)</summary>
        {open && <ServerDiff key={edits} world={world} id={id} />}
        {item.verdict != null && (
          <>
            <div className="small">validation verdict</div>
            <Json value={item.verdict} />
          </>
        )}
        {Array.isArray(item.reasons) && item.reasons.length > 0 && <Json value={item.reasons} />}
      </details>
      <div className="row">
        {(state === "queued" || state === "refused" || state === "awaiting") && (
          <>
            <button data-testid="queue-approve" disabled={act.busy} onClick={() => void post("approve", {})}>
              Approve
            </button>
            <button data-testid="queue-edit" onClick={() => setEditing((e) => !e)}>
              Edit
            </button>
            <button data-testid="queue-reject" className="danger" disabled={act.busy} onClick={() => void post("reject", {})}>
              Reject
            </button>
          </>
        )}
        {state === "active" && (
          <Confirm2 label="Undo" testId="queue-undo" onConfirm={() => void post("undo", {})} />
        )}
      </div>
      {editing && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            let patch: unknown;
            try {
              patch = JSON.parse(edit);
            } catch {
              return void act.run("edit", () => Promise.reject(new Error("the edit is not valid JSON")));
            }
            void post("edit", { payload_patch: patch }).then((ok) => {
              if (ok) {
                setEditing(false);
                setEdits((n) => n + 1);
              }
            });
          }}
        >
          <div className="small muted">A merge patch on the payload: words replace words, numbers numbers; ids stay.</div>
          <textarea
            data-testid="queue-edit-json"
            rows={5}
            cols={60}
            placeholder='{"items": {"0": {"name": "a better name"}}}'
            value={edit}
            onChange={(e) => setEdit(e.target.value)}
          />
          <button data-testid="queue-edit-submit" type="submit">
            Save edit
          </button>
        </form>
      )}
      <Status msg={act.msg} testId="queue-item-status" />
    </li>
  );
}

export function Queue({ world }: { world: string }) {
  const [filter, setFilter] = useState("");
  const q = usePoll<unknown>(`/api/queue?world=${world}${filter ? `&state=${filter}` : ""}`, 2000);
  const items = asList<Row>(q.data, "queue", "proposals");
  return (
    <Panel title={`Approval queue — ${world}`} testId="panel-queue">
      <label>
        show{" "}
        <select data-testid="queue-filter" value={filter} onChange={(e) => setFilter(e.target.value)}>
          <option value="">all</option>
          {["queued", "refused", "awaiting", "active", "failed", "rejected", "rolled_back"].map((st) => (
            <option key={st} value={st}>
              {st}
            </option>
          ))}
        </select>
      </label>
      {q.error && <div className="error">{q.error}</div>}
      {items.length === 0 && <p className="muted" data-testid="queue-empty">Nothing waiting.</p>}
      <ul className="cards" data-testid="queue-list">
        {[...items].reverse().map((item) => (
          <QueueItem key={idOf(item)} item={item} world={world} reload={q.reload} />
        ))}
      </ul>
    </Panel>
  );
}
