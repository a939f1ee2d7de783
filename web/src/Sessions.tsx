// Your own sign-ins: browser sessions (this one marked) and API tokens, each revocable at once
// (a revoked session or token is refused from its next request). Revoking asks twice.

import { useState } from "react";
import { api } from "./api";
import { Confirm2, Panel, Status, str, useAction, usePoll, type Row } from "./ui";

export function Sessions() {
  const s = usePoll<Row>("/api/auth/sessions", 5000);
  const act = useAction();
  const sessions = (s.data?.sessions ?? []) as Row[];
  const tokens = (s.data?.tokens ?? []) as Row[];
  const current = str(s.data?.current);
  const [label, setLabel] = useState("");
  const [made, setMade] = useState<string | null>(null);
  const revoke = (what: "sessions" | "tokens", id: string) =>
    act.run(`revoke ${id}`, async () => {
      await api(`/api/auth/${what}/${id}/revoke`, { method: "POST", body: { reason: "revoked on the sessions page" } });
      await s.reload();
    });
  return (
    <Panel title={`Sessions and tokens — ${str(s.data?.user)} (${str(s.data?.role)})`} testId="panel-sessions">
      {s.error && <div className="error">{s.error}</div>}
      <Status msg={act.msg} testId="sessions-status" />
      <h3>Browser sessions</h3>
      <table className="grid-table" data-testid="sessions-list">
        <thead>
          <tr>
            <th>id</th>
            <th>signed in</th>
            <th>last seen</th>
            <th>expires</th>
            <th>browser</th>
            <th>address</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {sessions.map((x) => (
            <tr key={str(x.id)} data-testid={`session-${str(x.id)}`} data-current={String(str(x.id) === current)}>
              <td>
                <code>{str(x.id)}</code> {str(x.id) === current && <b className="badge">this browser</b>}
              </td>
              <td>{str(x.created_at).slice(0, 19).replace("T", " ")}</td>
              <td>{str(x.last_seen).slice(0, 19).replace("T", " ")}</td>
              <td>{str(x.expires_at).slice(0, 19).replace("T", " ")}</td>
              <td className="small muted">{str(x.agent).slice(0, 60)}</td>
              <td>{str(x.address)}</td>
              <td>
                <Confirm2
                  label={str(x.id) === current ? "Sign out here" : "Revoke"}
                  testId={`session-revoke-${str(x.id)}`}
                  onConfirm={() => void revoke("sessions", str(x.id))}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>API tokens</h3>
      {str(s.data?.role) === "admin" && (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(`new token ${label}`, async () => {
              const out = await api<Row>(`/api/users/${str(s.data?.user)}/tokens`, {
                method: "POST",
                body: { label: label.trim(), reason: "made on the sessions page" },
              });
              setMade(str(out.token));
              setLabel("");
              await s.reload();
            });
          }}
        >
          <input data-testid="token-label" placeholder="label (what the token is for)" value={label} onChange={(e) => setLabel(e.target.value)} />
          <button data-testid="token-new" disabled={!label.trim() || act.busy} type="submit">
            New token
          </button>
        </form>
      )}
      {made && (
        <div className="card" data-testid="token-made">
          shown once, copy it now: <code>{made}</code>{" "}
          <button onClick={() => setMade(null)}>done</button>
        </div>
      )}
      <table className="grid-table" data-testid="tokens-list">
        <thead>
          <tr>
            <th>id</th>
            <th>label</th>
            <th>made</th>
            <th>state</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => (
            <tr key={str(t.id)} data-testid={`token-${str(t.id)}`} data-revoked={String(Boolean(t.revoked))}>
              <td>
                <code>{str(t.id)}</code>
              </td>
              <td>{str(t.label)}</td>
              <td>{str(t.created_at).slice(0, 19).replace("T", " ")}</td>
              <td className={t.revoked ? "error" : "ok"}>{t.revoked ? "revoked" : "live"}</td>
              <td>
                {!t.revoked && <Confirm2 label="Revoke" testId={`token-revoke-${str(t.id)}`} onConfirm={() => void revoke("tokens", str(t.id))} />}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
