// World-stream frames, decoded into one shape whatever the wire form.
//
// Binary (>= 200 entities), little-endian: a 12-byte header (u16 magic 0x4F42, u8 version 2,
// u8 world kind (each world's own code, GET /api/worlds), u16 entity count, u16 resource count,
// u32 tick; version 1 has an 8-byte header without the tick), then 16 bytes per entity
// (u32 id, i32 x, i32 y, u16 energy_permille, u8 kind, u8 flags) and 12 bytes per resource
// (u32 id, i32 x, i32 y). JSON (< 200 entities): {"type":"frame", world, tick, entities, resources}.
// A frame that does not match the layout is refused with a FrameError, never half-drawn.

export const MAGIC = 0x4f42;
export const HEADER_BYTES = 12;
const HEADER_BYTES_V1 = 8;
export const ENTITY_BYTES = 16;
export const RESOURCE_BYTES = 12;

export interface Frame {
  world: string;
  tick: number | null;
  count: number;
  ids: Uint32Array;
  xs: Int32Array;
  ys: Int32Array;
  energy: Uint16Array; // permille, 0..1000
  kinds: Uint8Array;
  flags: Uint8Array;
  resources: { ids: Uint32Array; xs: Int32Array; ys: Int32Array; count: number };
}

export class FrameError extends Error {}

/** The world a binary frame's kind code names; `worldOf` maps codes to names (GET /api/worlds). */
export function decodeBinary(buf: ArrayBuffer, worldOf: (kind: number) => string = (k) => `kind ${k}`): Frame {
  if (buf.byteLength < HEADER_BYTES_V1) throw new FrameError(`frame of ${buf.byteLength} bytes is shorter than the header`);
  const v = new DataView(buf);
  const magic = v.getUint16(0, true);
  if (magic !== MAGIC) throw new FrameError(`bad magic 0x${magic.toString(16)}`);
  const version = v.getUint8(2);
  if (version !== 1 && version !== 2) throw new FrameError(`unsupported frame version ${version}`);
  const head = version === 2 ? HEADER_BYTES : HEADER_BYTES_V1;
  if (buf.byteLength < head) throw new FrameError(`frame of ${buf.byteLength} bytes is shorter than the header`);
  const worldKind = v.getUint8(3);
  const n = v.getUint16(4, true);
  const r = v.getUint16(6, true);
  const need = head + n * ENTITY_BYTES + r * RESOURCE_BYTES;
  if (buf.byteLength !== need) throw new FrameError(`frame is ${buf.byteLength} bytes, layout says ${need}`);
  const f = emptyFrame(worldOf(worldKind), n, r);
  if (version === 2) f.tick = v.getUint32(8, true);
  let o = head;
  for (let i = 0; i < n; i++, o += ENTITY_BYTES) {
    f.ids[i] = v.getUint32(o, true);
    f.xs[i] = v.getInt32(o + 4, true);
    f.ys[i] = v.getInt32(o + 8, true);
    f.energy[i] = v.getUint16(o + 12, true);
    f.kinds[i] = v.getUint8(o + 14);
    f.flags[i] = v.getUint8(o + 15);
  }
  for (let i = 0; i < r; i++, o += RESOURCE_BYTES) {
    f.resources.ids[i] = v.getUint32(o, true);
    f.resources.xs[i] = v.getInt32(o + 4, true);
    f.resources.ys[i] = v.getInt32(o + 8, true);
  }
  return f;
}

function num(x: unknown, what: string): number {
  if (typeof x !== "number" || !Number.isFinite(x)) throw new FrameError(`${what} is not a number`);
  return x;
}

/** Energy may come as permille (integer 0..1000) or as a fraction 0..1; both map to permille. */
function permille(x: unknown): number {
  if (typeof x !== "number" || !Number.isFinite(x)) return 1000;
  const p = x <= 1 && !Number.isInteger(x) ? x * 1000 : x;
  return Math.max(0, Math.min(1000, Math.round(p)));
}

export function decodeJson(msg: Record<string, unknown>, fallbackWorld = ""): Frame {
  const ents = Array.isArray(msg.entities) ? (msg.entities as Record<string, unknown>[]) : null;
  if (!ents) throw new FrameError("frame has no entities list");
  const res = Array.isArray(msg.resources) ? (msg.resources as Record<string, unknown>[]) : [];
  const f = emptyFrame(typeof msg.world === "string" ? msg.world : fallbackWorld, ents.length, res.length);
  f.tick = typeof msg.tick === "number" ? msg.tick : null;
  ents.forEach((e, i) => {
    f.ids[i] = num(e.id, "entity id");
    f.xs[i] = num(e.x, "entity x");
    f.ys[i] = num(e.y, "entity y");
    f.energy[i] = permille(e.energy ?? e.energy_permille);
    f.kinds[i] = typeof e.kind === "number" ? e.kind : e.kind === "player" ? 1 : 0;
    f.flags[i] = typeof e.flags === "number" ? e.flags : 0;
  });
  res.forEach((e, i) => {
    f.resources.ids[i] = num(e.id, "resource id");
    f.resources.xs[i] = num(e.x, "resource x");
    f.resources.ys[i] = num(e.y, "resource y");
  });
  return f;
}

function emptyFrame(world: string, n: number, r: number): Frame {
  return {
    world,
    tick: null,
    count: n,
    ids: new Uint32Array(n),
    xs: new Int32Array(n),
    ys: new Int32Array(n),
    energy: new Uint16Array(n),
    kinds: new Uint8Array(n),
    flags: new Uint8Array(n),
    resources: { ids: new Uint32Array(r), xs: new Int32Array(r), ys: new Int32Array(r), count: r },
  };
}

/** Bounds that only grow, so the picture does not jump when one creature wanders to an edge. */
export class Bounds {
  minX = Infinity;
  minY = Infinity;
  maxX = -Infinity;
  maxY = -Infinity;

  include(f: Frame): void {
    const grow = (xs: Int32Array, ys: Int32Array, n: number) => {
      for (let i = 0; i < n; i++) {
        if (xs[i] < this.minX) this.minX = xs[i];
        if (xs[i] > this.maxX) this.maxX = xs[i];
        if (ys[i] < this.minY) this.minY = ys[i];
        if (ys[i] > this.maxY) this.maxY = ys[i];
      }
    };
    grow(f.xs, f.ys, f.count);
    grow(f.resources.xs, f.resources.ys, f.resources.count);
  }

  /** A mapper from world coordinates to a w x h canvas with a margin. */
  mapper(w: number, h: number, margin = 8): (x: number, y: number) => [number, number] {
    if (!Number.isFinite(this.minX)) return () => [w / 2, h / 2];
    const spanX = Math.max(1, this.maxX - this.minX);
    const spanY = Math.max(1, this.maxY - this.minY);
    const s = Math.min((w - 2 * margin) / spanX, (h - 2 * margin) / spanY);
    const ox = (w - s * spanX) / 2;
    const oy = (h - s * spanY) / 2;
    return (x, y) => [ox + (x - this.minX) * s, oy + (y - this.minY) * s];
  }
}
