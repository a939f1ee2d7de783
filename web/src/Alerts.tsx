// Alerts: rollbacks (by a person or automatic), kill-switch changes, fault storms, processes
// restarting in a loop, economic-guard holds and login lockouts. New ones pop up as toasts on
// every tab (click one to open this page); the page lists them all, newest first, and says
// whether a webhook receives them.

import { useEffect, useRef, useState } from "react";
import { api } from "./api";
import { Panel, str, usePoll, type Row } from "./ui";

const KIND_NAMES: Record<string, string> = {
  rollback: "Rollback",
  killswitch: "Kill-switch",
  fault_storm: "Fault storm",
  restart_loop: "Restart loop",
  economic_hold: "Economic hold",
  security: "Security",
};

export function kindName(kind: unknown): string {
  return KIND_NAMES[str(kind)] ?? str(kind);
}

export function Toasts({ onOpen, onNew }: { onOpen: () => void; onNew?: (count: number) => void }) {
  const [toasts, setToasts] = useState<Row[]>([]);
  const last = useRef<number | null>(null);
  const notify = useRef(onNew); // the latest callback, for the poll set up once
  notify.current = onNew;
  useEffect(() => {
    let alive = true;
    const poll = async () => {
      try {
        const first = last.current === null;
        const got = await api<Row>(`/api/alerts?after=${last.current ?? 0}&limit=50`);
        const alerts = (got.alerts ?? []) as Row[];
        last.current = Number(got.last_seq ?? last.current ?? 0);
        if (!first && alive && alerts.length) {
          setToasts((t) => [...t, ...alerts].slice(-5));
          notify.current?.(alerts.length);
        }
      } catch {
        /* the next poll tries again */
      }
    };
    void poll();
    const id = window.setInterval(() => void poll(), 2000);
    return () => {
      alive = false;
      window.clearInterval(id);
    };
  }, []);
  useEffect(() => {
    if (!toasts.length) return;
    const id = window.setTimeout(() => setToasts((t) => t.slice(1)), 12000);
    return () => window.clearTimeout(id);
  }, [toasts]);
  return (
    <div className="toasts" data-testid="toasts">
      {toasts.map((a) => (
        <div key={str(a.seq)} className={`toast ${str(a.severity)}`} data-testid="toast" data-kind={str(a.kind)} onClick={onOpen}>
          <b>{kindName(a.kind)}</b> {str(a.message)}
          <button
            className="close"
            onClick={(e) => {
              e.stopPropagation();
              setToasts((t) => t.filter((x) => x.seq !== a.seq));
            }}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

export function Alerts() {
  const a = usePoll<Row>("/api/alerts?limit=500", 3000);
  const alerts = [...((a.data?.alerts ?? []) as Row[])].reverse();
  const hook = a.data?.webhook as Row | null | undefined;
  return (
    <Panel title="Alerts" testId="panel-alerts">
      {a.error && <div className="error">{a.error}</div>}
      <div className="small muted" data-testid="alerts-webhook">
        {hook
          ? `webhook ${str(hook.url)}: ${str(hook.sent)} sent, ${str(hook.failed)} failed, ${str(hook.dropped)} dropped${hook.last_error ? ` (last error: ${str(hook.last_error)})` : ""}`
          : "no webhook (ouroboros go --alert-webhook URL sends each alert as JSON)"}
      </div>
      {alerts.length === 0 && <p className="muted">No alerts yet.</p>}
      <ol className="timeline" data-testid="alerts-list">
        {alerts.map((x) => (
          <li key={str(x.seq)} data-testid="alert" data-kind={str(x.kind)} className={str(x.severity)}>
            <span className="muted small">{str(x.at).slice(0, 19).replace("T", " ")}</span> <b>{kindName(x.kind)}</b>{" "}
            {x.world != null && <span className="badge">{str(x.world)}</span>} {str(x.message)}
            {x.automatic === true && <span className="badge">automatic</span>}
          </li>
        ))}
      </ol>
    </Panel>
  );
}
