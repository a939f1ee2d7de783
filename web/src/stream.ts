// The world stream: one WebSocket per view, reconnecting with back-off. It keeps only the latest
// frame (the canvas draws at its own 30 FPS, so a slow tab drops frames instead of queueing them)
// and hands feed messages to whoever listens.

import { decodeBinary, decodeJson, type Frame } from "./frames";
import { getToken, wsUrl } from "./api";

export interface StreamStats {
  frames: number;
  binary: number; // frames that came as binary messages (>= 200 entities)
  errors: number;
  connected: boolean;
  lastError: string | null;
}

export class WorldStream {
  latest: Frame | null = null;
  stats: StreamStats = { frames: 0, binary: 0, errors: 0, connected: false, lastError: null };
  private ws: WebSocket | null = null;
  private closed = false;
  private retryMs = 500;
  private timer: number | undefined;

  constructor(
    private world: string,
    private onFeed: (event: Record<string, unknown>) => void = () => {},
  ) {
    this.open();
  }

  private open(): void {
    if (this.closed) return;
    const token = encodeURIComponent(getToken() ?? "");
    const ws = new WebSocket(wsUrl(`/ws/world-stream?world=${encodeURIComponent(this.world)}&token=${token}`));
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      this.stats.connected = true;
      this.retryMs = 500;
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = () => {
      this.stats.connected = false;
      if (!this.closed) this.timer = window.setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
    this.ws = ws;
  }

  private receive(data: unknown): void {
    try {
      if (data instanceof ArrayBuffer) {
        // the binary header carries the world only as a code: this stream's world
        this.latest = decodeBinary(data, () => this.world);
        this.stats.frames++;
        this.stats.binary++;
        return;
      }
      const msg = JSON.parse(String(data)) as Record<string, unknown>;
      if (msg.type === "feed" && msg.event && typeof msg.event === "object") {
        this.onFeed(msg.event as Record<string, unknown>);
      } else if (msg.type === "frame") {
        this.latest = decodeJson(msg, this.world);
        this.stats.frames++;
      } else if (msg.type === "tick" && typeof msg.tick === "number" && this.latest) {
        this.latest.tick = msg.tick;
      }
    } catch (e) {
      this.stats.errors++;
      this.stats.lastError = e instanceof Error ? e.message : String(e);
    }
  }

  close(): void {
    this.closed = true;
    window.clearTimeout(this.timer);
    this.ws?.close();
  }
}
