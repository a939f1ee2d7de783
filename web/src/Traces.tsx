// "Why was this slow": the spans of every trace that touched a proposal or a patch (the HTTP
// request, the queue, each pipeline stage, model calls, the activation on the tick thread),
// indented under their parents, with their share of the longest one.

import { useState } from "react";
import { api } from "./api";
import { Panel, Status, str, useAction, type Row } from "./ui";

type Span = Row & { span_id: string; parent_id: string | null; name: string; duration_ms: number };

function ordered(spans: Span[]): { span: Span; depth: number }[] {
  const children = new Map<string | null, Span[]>();
  const ids = new Set(spans.map((s) => s.span_id));
  for (const s of spans) {
    const parent = s.parent_id && ids.has(s.parent_id) ? s.parent_id : null;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const out: { span: Span; depth: number }[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      out.push({ span: s, depth });
      walk(s.span_id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

export function Traces() {
  const [kind, setKind] = useState<"proposal_id" | "patch_id">("proposal_id");
  const [id, setId] = useState("");
  const [spans, setSpans] = useState<Span[]>([]);
  const act = useAction();
  const longest = Math.max(1, ...spans.map((s) => Number(s.duration_ms) || 0));
  return (
    <Panel title="Traces — why was this slow" testId="panel-traces">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          act.run("load traces", async () => {
            const doc = await api<{ spans: Span[] }>(`/api/traces?${kind}=${encodeURIComponent(id.trim())}`);
            setSpans(doc.spans);
          });
        }}
      >
        <select data-testid="traces-kind" value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
          <option value="proposal_id">proposal</option>
          <option value="patch_id">patch</option>
        </select>
        <input data-testid="traces-id" value={id} placeholder="prop-… or a patch id" onChange={(e) => setId(e.target.value)} />
        <button data-testid="traces-load" disabled={act.busy || !id.trim()}>
          Show
        </button>
      </form>
      <Status msg={act.msg} testId="traces-status" />
      {spans.length === 0 && <p className="muted">No spans (tracing keeps the newest spans in memory).</p>}
      <ol className="timeline" data-testid="traces">
        {ordered(spans).map(({ span, depth }) => (
          <li key={span.span_id} data-testid="trace-span" style={{ paddingLeft: `${depth * 1.2}em` }}>
            <b>{span.name}</b> <span>{Number(span.duration_ms).toFixed(1)} ms</span>{" "}
            <span
              className="muted"
              style={{ display: "inline-block", width: `${(100 * Number(span.duration_ms)) / longest}%`, maxWidth: "40%", borderBottom: "3px solid currentColor" }}
            />{" "}
            <span className="muted small">
              {Object.entries((span.attributes as Row) ?? {})
                .filter(([k]) => k.startsWith("ouroboros."))
                .map(([k, v]) => `${k.slice(10)}=${str(v)}`)
                .join(" ")}
            </span>
          </li>
        ))}
      </ol>
    </Panel>
  );
}
