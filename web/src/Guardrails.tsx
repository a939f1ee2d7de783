// The guardrails editor: every budget, throttle and word list of <data>/guardrails.json, edited in
// a form and PUT back whole; the server validates and answers one clear error if a value is bad.

import { useEffect, useState } from "react";
import { api } from "./api";
import { Panel, Status, useAction, usePoll, type Row } from "./ui";

export function Guardrails() {
  const g = usePoll<Row>("/api/guardrails", 0);
  const act = useAction();
  const [draft, setDraft] = useState<Row | null>(null);
  const [objects, setObjects] = useState<Record<string, string>>({}); // JSON text of object fields
  const current = ((g.data?.guardrails ?? g.data) as Row | null) ?? null;
  useEffect(() => {
    if (current) {
      setDraft({ ...current });
      setObjects(
        Object.fromEntries(
          Object.entries(current)
            .filter(([, v]) => v !== null && typeof v === "object" && !Array.isArray(v))
            .map(([k, v]) => [k, JSON.stringify(v)]),
        ),
      );
    }
  }, [g.data]); // eslint-disable-line react-hooks/exhaustive-deps
  if (!draft) return <Panel title="Guardrails" testId="panel-guardrails">{g.error ? <div className="error">{g.error}</div> : "…"}</Panel>;
  return (
    <Panel title="Guardrails" testId="panel-guardrails">
      <form
        className="grid"
        onSubmit={(e) => {
          e.preventDefault();
          void act.run("save guardrails", async () => {
            const body: Row = { ...draft };
            for (const [k, text] of Object.entries(objects)) {
              try {
                body[k] = JSON.parse(text);
              } catch {
                throw new Error(`${k} is not valid JSON`);
              }
            }
            await api("/api/guardrails", { method: "PUT", body: { guardrails: body, reason: "edited in the dashboard" } });
            await g.reload();
          });
        }}
      >
        {Object.entries(draft).map(([k, v]) => (
          <label key={k}>
            <span>{k.replace(/_/g, " ")}</span>
            {typeof v === "number" ? (
              <input
                data-testid={`guardrail-${k}`}
                type="number"
                value={v}
                onChange={(e) => setDraft({ ...draft, [k]: e.target.value === "" ? 0 : Number(e.target.value) })}
              />
            ) : typeof v === "boolean" ? (
              <input data-testid={`guardrail-${k}`} type="checkbox" checked={v} onChange={(e) => setDraft({ ...draft, [k]: e.target.checked })} />
            ) : Array.isArray(v) ? (
              <textarea
                data-testid={`guardrail-${k}`}
                rows={2}
                value={v.join("\n")}
                onChange={(e) => setDraft({ ...draft, [k]: e.target.value.split("\n").map((s) => s.trim()).filter(Boolean) })}
              />
            ) : k in objects ? (
              <textarea
                data-testid={`guardrail-${k}`}
                rows={2}
                value={objects[k]}
                onChange={(e) => setObjects({ ...objects, [k]: e.target.value })}
              />
            ) : (
              <input
                data-testid={`guardrail-${k}`}
                value={typeof v === "string" ? v : JSON.stringify(v)}
                onChange={(e) => setDraft({ ...draft, [k]: e.target.value })}
              />
            )}
          </label>
        ))}
        <button data-testid="guardrails-save" type="submit" disabled={act.busy}>
          Save guardrails
        </button>
      </form>
      <Status msg={act.msg} testId="guardrails-status" />
    </Panel>
  );
}
