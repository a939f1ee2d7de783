// The approval queue: each waiting proposal with its diff (the content before and after the
// validation pipeline, and the validation verdict), then approve, edit (a JSON merge patch on the
// payload) or reject; a decided one can be undone.

import { useState } from "react";
import { api, asList } from "./api";
import { Confirm2, Json, Panel, Status, str, useAction, usePoll, type Row } from "./ui";

function idOf(item: Row): string {
  return str(item.id ?? item.queue_id ?? item.proposal_id);
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

function QueueItem({ item, reload }: { item: Row; reload: () => Promise<void> }) {
  const id = idOf(item);
  const act = useAction();
  const [editing, setEditing] = useState(false);
  const [edit, setEdit] = useState("{}");
  const proposal = (item.proposal ?? {}) as Row;
  const before = item.before ?? proposal.payload ?? item.payload;
  const after = item.after ?? item.validated ?? item.verdict ?? item.content;
  const state = str(item.state ?? item.status);
  const post = (verb: string, body: Row) =>
    act.run(`${verb} ${id}`, async () => {
      await api(`/api/queue/${encodeURIComponent(id)}/${verb}`, { method: "POST", body: { reason: `${verb} from the dashboard`, ...body } });
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
      </div>
      <details>
        <summary>diff before/after validation</summary>
        <Diff before={before} after={after} />
        {Array.isArray(item.reasons) && item.reasons.length > 0 && <Json value={item.reasons} />}
      </details>
      <div className="row">
        {(state === "pending" || state === "waiting" || state === "queued" || state === "") && (
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
        {(state === "approved" || state === "applied" || state === "active") && (
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
            void post("edit", { payload_patch: patch }).then((ok) => ok && setEditing(false));
          }}
        >
          <textarea data-testid="queue-edit-json" rows={5} value={edit} onChange={(e) => setEdit(e.target.value)} />
          <button data-testid="queue-edit-submit" type="submit">
            Save edit
          </button>
        </form>
      )}
      <Status msg={act.msg} testId="queue-item-status" />
    </li>
  );
}

export function Queue() {
  const [filter, setFilter] = useState("");
  const q = usePoll<unknown>(`/api/queue${filter ? `?state=${filter}` : ""}`, 2000);
  const items = asList<Row>(q.data, "queue", "proposals");
  return (
    <Panel title="Approval queue" testId="panel-queue">
      <label>
        show{" "}
        <select data-testid="queue-filter" value={filter} onChange={(e) => setFilter(e.target.value)}>
          <option value="">all</option>
          <option value="pending">pending</option>
          <option value="approved">approved</option>
          <option value="rejected">rejected</option>
        </select>
      </label>
      {q.error && <div className="error">{q.error}</div>}
      {items.length === 0 && <p className="muted" data-testid="queue-empty">Nothing waiting.</p>}
      <ul className="cards" data-testid="queue-list">
        {[...items].reverse().map((item) => (
          <QueueItem key={idOf(item)} item={item} reload={q.reload} />
        ))}
      </ul>
    </Panel>
  );
}
