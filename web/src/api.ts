// The one door to the server: every REST call goes through `api()`, which sends the session
// cookie (httpOnly, SameSite=Strict: set by /api/auth/login, never readable here), decodes JSON,
// and turns any non-2xx answer into an ApiError carrying the server's message (the `detail` of
// FastAPI errors, or the first rejection `{stage, code, path, message}`).

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public body: unknown,
  ) {
    super(message);
  }
}

// A signed-in browser has no token it can read (the cookie is httpOnly); the world stream, whose
// URL carries `?token=`, gets a short-lived ticket instead (GET /api/auth/stream-ticket).
let streamTicket: string | null = null;

export function getToken(): string | null {
  return streamTicket;
}

export function setToken(ticket: string | null): void {
  streamTicket = ticket;
}

export async function refreshTicket(): Promise<void> {
  try {
    const t = await api<{ ticket: string }>("/api/auth/stream-ticket");
    streamTicket = t.ticket;
  } catch {
    streamTicket = null;
  }
}

function messageOf(body: unknown, fallback: string): string {
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    const d = b.detail ?? b.error ?? b.message;
    if (typeof d === "string") return d;
    if (d && typeof d === "object") {
      const dd = d as Record<string, unknown>;
      if (typeof dd.message === "string") return dd.message;
      if (Array.isArray(d) && d.length > 0) {
        const first = d[0] as Record<string, unknown>;
        if (typeof first.message === "string") return first.message;
        if (typeof first.msg === "string") return first.msg;
      }
    }
  }
  return fallback;
}

export async function api<T = unknown>(
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  let body: string | undefined;
  if (init.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(init.body);
  }
  const res = await fetch(path, { method: init.method ?? "GET", headers, body, credentials: "same-origin" });
  const text = await res.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && path !== "/api/auth/login") window.dispatchEvent(new Event("ouroboros:unauthorized"));
    throw new ApiError(res.status, messageOf(parsed, `${res.status} ${res.statusText}`), parsed);
  }
  return parsed as T;
}

/** Lists arrive either bare or wrapped (`{items: [...]}`, `{patches: [...]}`...): take the first array. */
export function asList<T = Record<string, unknown>>(value: unknown, ...keys: string[]): T[] {
  if (Array.isArray(value)) return value as T[];
  if (value && typeof value === "object") {
    const v = value as Record<string, unknown>;
    for (const k of [...keys, "items", "entries", "results", "data"]) {
      if (Array.isArray(v[k])) return v[k] as T[];
    }
    for (const k of Object.keys(v)) if (Array.isArray(v[k])) return v[k] as T[];
  }
  return [];
}

export function wsUrl(path: string): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}
