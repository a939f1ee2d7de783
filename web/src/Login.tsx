// Login: an API token or a one-time secret (printed by `ouroboros go` and written to
// DATA/admin-login.txt) is exchanged at /api/auth/login for a session: an httpOnly cookie that
// lasts a week (reloads and closed tabs keep it) until signed out or revoked on the sessions tab.
// Locked out? The screen says how to get a new one-time secret from the server's data folder.

import { useState } from "react";
import { api } from "./api";
import { errorText } from "./ui";

export interface Me {
  user: string;
  role: string;
}

export function Login({ onLogin }: { onLogin: (me: Me) => void }) {
  const [username, setUsername] = useState("");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div className="login">
      <h1>ouroboros</h1>
      <p className="muted">
        Operator dashboard. Sign in with an API token or the one-time secret printed by <code>ouroboros go</code> (also
        in <code>admin-login.txt</code> in its data folder). You stay signed in for a week on this browser.
      </p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            // session_only: the answer carries no bearer token a script could read; the cookie is it
            const body: Record<string, string | boolean> = { secret: secret.trim(), session_only: true };
            if (username.trim()) body.username = username.trim();
            const res = await api<Record<string, unknown>>("/api/auth/login", { method: "POST", body });
            onLogin({ user: String(res.user ?? username ?? ""), role: String(res.role ?? "viewer") });
          } catch (err) {
            setError(errorText(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <input data-testid="login-username" placeholder="user (optional)" value={username} onChange={(e) => setUsername(e.target.value)} />
        <input
          data-testid="login-secret"
          type="password"
          placeholder="token or one-time secret"
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
        />
        <button data-testid="login-submit" disabled={busy || !secret.trim()} type="submit">
          Sign in
        </button>
      </form>
      {error && (
        <div data-testid="login-error" className="error">
          {error}
        </div>
      )}
      <details className="help" data-testid="login-help" open={Boolean(error)}>
        <summary>Locked out, or the secret was already used?</summary>
        <p>On the machine that runs the server, in the folder you started it from, run:</p>
        <pre data-testid="login-help-command">ouroboros admin reset-secret admin --data ouroboros-data</pre>
        <p className="small muted">
          (<code>--data</code>: the folder given to <code>ouroboros go</code>; another user's name in place of{" "}
          <code>admin</code>.) It prints a new one-time secret, writes it to <code>admin-login.txt</code> there (readable by
          you alone), and keeps your authenticator app's TOTP codes working (<code>--reset-totp</code> replaces them). Paste the
          new secret above; it works once, and the session it starts lasts a week.
        </p>
      </details>
    </div>
  );
}
