// Small shared pieces: polling, a two-step confirmation, a TOTP prompt, an error line, JSON views.

import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { api, ApiError } from "./api";

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.status}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

/** GET `path` every `ms` milliseconds; `reload()` fetches now. Errors are kept, not thrown. */
export function usePoll<T = unknown>(path: string | null, ms: number) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const alive = useRef(true);
  const reload = useCallback(async () => {
    if (!path) return;
    try {
      const d = await api<T>(path);
      if (alive.current) {
        setData(d);
        setError(null);
      }
    } catch (e) {
      if (alive.current) setError(errorText(e));
    }
  }, [path]);
  useEffect(() => {
    alive.current = true;
    void reload();
    const id = ms > 0 ? window.setInterval(() => void reload(), ms) : undefined;
    return () => {
      alive.current = false;
      window.clearInterval(id);
    };
  }, [reload, ms]);
  return { data, error, reload };
}

/** Run an action, show its error or result line; returns [run, busy, message]. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const run = useCallback(async (label: string, fn: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await fn();
      setMsg({ ok: true, text: `${label}: done` });
      return true;
    } catch (e) {
      setMsg({ ok: false, text: `${label}: ${errorText(e)}` });
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { run, busy, msg };
}

export function Status({ msg, testId }: { msg: { ok: boolean; text: string } | null; testId: string }) {
  if (!msg) return null;
  return (
    <div data-testid={testId} className={msg.ok ? "ok" : "error"}>
      {msg.text}
    </div>
  );
}

/** A destructive action asks twice: the first click arms it, the second (within 10 s) fires. */
export function Confirm2({ label, onConfirm, testId, disabled }: { label: string; onConfirm: () => void; testId: string; disabled?: boolean }) {
  const [armed, setArmed] = useState(false);
  useEffect(() => {
    if (!armed) return;
    const id = window.setTimeout(() => setArmed(false), 10000);
    return () => window.clearTimeout(id);
  }, [armed]);
  if (!armed)
    return (
      <button data-testid={testId} disabled={disabled} onClick={() => setArmed(true)}>
        {label}
      </button>
    );
  return (
    <span className="confirm">
      <button
        className="danger"
        data-testid={`${testId}-confirm`}
        onClick={() => {
          setArmed(false);
          onConfirm();
        }}
      >
        really {label.toLowerCase()}?
      </button>
      <button data-testid={`${testId}-cancel`} onClick={() => setArmed(false)}>
        cancel
      </button>
    </span>
  );
}

/** A six-digit TOTP code field with a submit button. */
export function TotpPrompt({ label, onSubmit, testId }: { label: string; onSubmit: (code: string) => void; testId: string }) {
  const [code, setCode] = useState("");
  const valid = /^\d{6}$/.test(code);
  return (
    <form
      className="totp"
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) onSubmit(code);
      }}
    >
      <input
        data-testid={`${testId}-code`}
        inputMode="numeric"
        autoComplete="one-time-code"
        placeholder="TOTP code"
        maxLength={6}
        value={code}
        onChange={(e) => setCode(e.target.value.replace(/\D/g, ""))}
      />
      <button data-testid={`${testId}-submit`} disabled={!valid} type="submit">
        {label}
      </button>
    </form>
  );
}

export function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

export function Panel({ title, children, testId }: { title: string; children: ReactNode; testId: string }) {
  return (
    <section className="panel" data-testid={testId}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export function str(v: unknown): string {
  if (v === null || v === undefined) return "";
  return typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v);
}

export type Row = Record<string, unknown>;
