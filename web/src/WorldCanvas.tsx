// A live world on a PixiJS canvas, redrawn at 30 FPS from the latest stream frame. Each entity is a
// pooled sprite tinted by kind and energy; resources are small dim dots. If WebGL is unavailable
// the same picture is drawn on a 2D canvas, so the view never goes blank. The element carries
// counters (frames received, draws, entities, tick) as data attributes for the browser tests.

import { useEffect, useRef, useState } from "react";
import { Application, Container, Graphics, Sprite, Texture } from "pixi.js";
import { Bounds, type Frame } from "./frames";
import { WorldStream } from "./stream";

export interface Palette {
  background: number;
  resource: number;
  kinds: number[]; // tint per entity kind
}

export const PETRI: Palette = { background: 0x05070a, resource: 0x2f6f3a, kinds: [0x52ffa8, 0xff5ca8, 0x5cc8ff, 0xffd35c] };
export const NEON: Palette = { background: 0x0b0414, resource: 0x3a2a60, kinds: [0xff2bd6, 0x00f0ff, 0xfff200, 0x9dff00] };
/** Any other world: entity kinds in distinct hues, resources dim green. */
export const PLAIN: Palette = { background: 0x080a0c, resource: 0x2a5a2a, kinds: [0xf0f0f0, 0xff5050, 0x50a0ff, 0xffd35c] };

const PALETTES: Record<string, Palette> = { petri: PETRI, neon: NEON };

/** A world's palette: its own where it has one, else PLAIN (a new world needs no change here). */
export function paletteOf(world: string): Palette {
  return PALETTES[world] ?? PLAIN;
}

const FPS = 30;

function dim(color: number, permille: number): number {
  const k = 0.35 + 0.65 * Math.min(1, permille / 1000);
  const r = Math.round(((color >> 16) & 255) * k);
  const g = Math.round(((color >> 8) & 255) * k);
  const b = Math.round((color & 255) * k);
  return (r << 16) | (g << 8) | b;
}

const css = (c: number) => `#${c.toString(16).padStart(6, "0")}`;

interface Props {
  world: string;
  palette: Palette;
  width?: number;
  height?: number;
  onFeed?: (event: Record<string, unknown>) => void;
  testId: string;
  /** Spread entities that share a spot (NPCs in one neon room) by up to this many pixels. */
  spread?: number;
}

/** A fixed offset per entity id in [-spread, spread], so a crowd in one room is visible. */
function offset(id: number, spread: number, salt: number): number {
  if (spread <= 0) return 0;
  const h = Math.imul(id ^ salt, 2654435761) >>> 0;
  return (h % (2 * spread + 1)) - spread;
}

export function WorldCanvas({ world, palette, width = 640, height = 400, onFeed, testId, spread = 0 }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const [info, setInfo] = useState({ frames: 0, binary: 0, errors: 0, draws: 0, entities: 0, tick: -1, renderer: "starting", connected: false, error: "" });
  const feedRef = useRef(onFeed);
  feedRef.current = onFeed;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const stream = new WorldStream(world, (e) => feedRef.current?.(e));
    const bounds = new Bounds();
    let draws = 0;
    let lastDrawn: Frame | null = null;
    let stop = () => {};
    let disposed = false;

    const publish = (renderer: string) => {
      const f = stream.latest;
      setInfo({
        frames: stream.stats.frames,
        binary: stream.stats.binary,
        errors: stream.stats.errors,
        draws,
        entities: f?.count ?? 0,
        tick: f?.tick ?? -1,
        renderer,
        connected: stream.stats.connected,
        error: stream.stats.lastError ?? "",
      });
    };

    const startCanvas2d = () => {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      el.appendChild(canvas);
      const ctx = canvas.getContext("2d")!;
      const id = window.setInterval(() => {
        const f = stream.latest;
        if (f && f !== lastDrawn) {
          bounds.include(f);
          const map = bounds.mapper(width, height);
          ctx.fillStyle = css(palette.background);
          ctx.fillRect(0, 0, width, height);
          ctx.fillStyle = css(palette.resource);
          for (let i = 0; i < f.resources.count; i++) {
            const [x, y] = map(f.resources.xs[i], f.resources.ys[i]);
            ctx.fillRect(x - 1, y - 1, 2, 2);
          }
          for (let i = 0; i < f.count; i++) {
            const [x0, y0] = map(f.xs[i], f.ys[i]);
            const x = x0 + offset(f.ids[i], spread, 0x9e37);
            const y = y0 + offset(f.ids[i], spread, 0x79b9);
            ctx.fillStyle = css(dim(palette.kinds[f.kinds[i] % palette.kinds.length], f.energy[i]));
            ctx.fillRect(x - 2, y - 2, 4, 4);
          }
          lastDrawn = f;
          draws++;
        }
        publish("canvas2d");
      }, 1000 / FPS);
      stop = () => {
        window.clearInterval(id);
        canvas.remove();
      };
    };

    const app = new Application();
    app
      .init({ width, height, background: palette.background, antialias: false, preference: "webgl", autoStart: false })
      .then(() => {
        if (disposed) {
          app.destroy(true);
          return;
        }
        el.appendChild(app.canvas);
        const dot = new Graphics().circle(0, 0, 3).fill(0xffffff);
        const dotTex: Texture = app.renderer.generateTexture(dot);
        const res = new Graphics();
        const layer = new Container();
        app.stage.addChild(res, layer);
        const pool: Sprite[] = [];
        app.ticker.maxFPS = FPS;
        app.ticker.add(() => {
          const f = stream.latest;
          if (f && f !== lastDrawn) {
            bounds.include(f);
            const map = bounds.mapper(width, height);
            res.clear();
            for (let i = 0; i < f.resources.count; i++) {
              const [x, y] = map(f.resources.xs[i], f.resources.ys[i]);
              res.rect(x - 1, y - 1, 2, 2);
            }
            if (f.resources.count) res.fill(palette.resource);
            while (pool.length < f.count) {
              const s = new Sprite(dotTex);
              s.anchor.set(0.5);
              pool.push(s);
              layer.addChild(s);
            }
            for (let i = 0; i < pool.length; i++) {
              const s = pool[i];
              if (i >= f.count) {
                s.visible = false;
                continue;
              }
              const [x, y] = map(f.xs[i], f.ys[i]);
              s.visible = true;
              s.position.set(x + offset(f.ids[i], spread, 0x9e37), y + offset(f.ids[i], spread, 0x79b9));
              s.tint = dim(palette.kinds[f.kinds[i] % palette.kinds.length], f.energy[i]);
            }
            lastDrawn = f;
            draws++;
          }
          publish(app.renderer.name);
        });
        app.ticker.start();
        stop = () => app.destroy(true, { children: true, texture: true });
      })
      .catch(() => {
        if (!disposed) startCanvas2d();
      });

    return () => {
      disposed = true;
      stream.close();
      stop();
    };
  }, [world, palette, width, height, spread]);

  return (
    <div className="world-canvas">
      <div
        ref={host}
        data-testid={testId}
        data-frames={info.frames}
        data-binary={info.binary}
        data-errors={info.errors}
        data-draws={info.draws}
        data-entities={info.entities}
        data-tick={info.tick}
        data-renderer={info.renderer}
        style={{ width, height }}
      />
      <div className="muted small">
        {info.connected ? "live" : "connecting…"} · {info.entities} entities · tick {info.tick < 0 ? "—" : info.tick} ·{" "}
        {info.frames} frames · {info.renderer}
        {info.error && <span className="error"> · {info.error}</span>}
      </div>
    </div>
  );
}
