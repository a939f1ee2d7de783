// Decodes world-stream frames with the dashboard's own decoder (web/src/frames.ts, bundled by the
// test with esbuild): one JSON request a line on stdin ({"b64": ..., "kinds": {code: world}} binary
// or {"json": ...}),
// one JSON answer a line on stdout ({"ok": true, frame} or {"ok": false, "error", "message"}).
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const frames = await import(pathToFileURL(process.argv[2]).href);
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  let out;
  try {
    const req = JSON.parse(line);
    let f;
    if (req.b64 !== undefined) {
      const buf = Buffer.from(req.b64, "base64");
      const kinds = req.kinds ?? {};
      f = frames.decodeBinary(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), (k) => kinds[k] ?? `kind ${k}`);
    } else {
      f = frames.decodeJson(req.json);
    }
    const entities = [];
    for (let i = 0; i < f.count; i++) entities.push([f.ids[i], f.xs[i], f.ys[i], f.energy[i], f.kinds[i], f.flags[i]]);
    const resources = [];
    for (let i = 0; i < f.resources.count; i++) resources.push([f.resources.ids[i], f.resources.xs[i], f.resources.ys[i]]);
    out = { ok: true, world: f.world, tick: f.tick, entities, resources };
  } catch (e) {
    out = { ok: false, error: e && e.constructor ? e.constructor.name : "Error", message: String(e && e.message) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
