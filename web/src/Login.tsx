// Login: an API token or the first admin's one-time secret (printed once by `ouroboros go`) is
// exchanged at /api/auth/login for a bearer token kept in this tab's session storage.

import { useState } from "react";
import { api, setToken } from "./api";
import { errorText } from "./ui";

export function Login({ onLogin }: { onLogin: (user: string) => void }) {
  const [username, setUsername] = useState("");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div className="login">
      <h1>ouroboros</h1>
      <p className="muted">Operator dashboard. Sign in with an API token or the one-time secret printed by <code>ouroboros go</code>.</p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const body: Record<string, string> = { secret: secret.trim() };
            if (username.trim()) body.username = username.trim();
            const res = await api<Record<string, unknown>>("/api/auth/login", { method: "POST", body });
            const token = (res.token ?? res.access_token) as string | undefined;
            if (!token) throw new Error("the server answered without a token");
            setToken(token);
            const user = res.user;
            const name = typeof user === "string" ? user : user && typeof user === "object" ? String((user as Record<string, unknown>).name ?? "") : "";
            onLogin(name || username || "operator");
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
    </div>
  );
}
