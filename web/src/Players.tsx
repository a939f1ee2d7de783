// A played world's people, for an operator: who is in it (level, room, credits, how they are doing),
// and what they told us with `feedback` — category and sentiment, newest first.

import { asList } from "./api";
import { Panel, str, usePoll, type Row } from "./ui";

const MOOD = (s: number) => (s > 20 ? "positive" : s < -20 ? "negative" : "neutral");

export function Players({ world, played }: { world: string; played: string[] }) {
  const here = played.includes(world);
  const players = usePoll<unknown>(here ? `/api/worlds/${world}/players` : null, 5000);
  const feedback = usePoll<Row>(here ? `/api/worlds/${world}/feedback?limit=50` : null, 5000);
  if (!here) {
    return (
      <Panel title="Players" testId="panel-players">
        <div className="muted">
          Only {played.join(", ") || "a played world"} has players; pick {played[0] ?? "it"} above.
        </div>
      </Panel>
    );
  }
  const people = asList<Row>(players.data, "players");
  const entries = asList<Row>(feedback.data?.entries, "entries");
  const counts = (feedback.data?.by_category ?? {}) as Row;
  return (
    <div className="live">
      <Panel title={`Players — ${world}`} testId="panel-players">
        {players.error && <div className="error">{players.error}</div>}
        {people.length === 0 && <div className="muted">Nobody has played yet.</div>}
        <table className="small players">
          <thead>
            <tr>
              <th>name</th>
              <th>online</th>
              <th>room</th>
              <th>hp</th>
              <th>credits</th>
              <th>level</th>
              <th>deaths</th>
              <th>challenge</th>
            </tr>
          </thead>
          <tbody>
            {people.map((p) => (
              <tr key={str(p.name)} data-testid={`player-${str(p.name)}`}>
                <td>{str(p.name)}</td>
                <td>{p.online ? "yes" : "no"}</td>
                <td>{str(p.room_name ?? p.room)}</td>
                <td>{p.hp !== undefined ? `${str(p.hp)}/${str(p.max_hp)}` : ""}</td>
                <td>{str(p.credits)}</td>
                <td>{str(p.level)}</td>
                <td>{str(p.deaths)}</td>
                <td>{str(p.challenge)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
      <Panel title="Feedback — what players said" testId="panel-feedback">
        {feedback.error && <div className="error">{feedback.error}</div>}
        <div className="small" data-testid="feedback-counts">
          {Object.entries(counts)
            .map(([k, v]) => `${k} ${str(v)}`)
            .join(" · ") || "no feedback yet"}
          {feedback.data && ` · mean sentiment ${str(feedback.data.sentiment_mean)}`}
        </div>
        {entries.map((e, i) => (
          <div key={i} className="row small" data-testid="feedback-entry">
            <b>{str(e.category)}</b>
            <span className={MOOD(Number(e.sentiment))}>{str(e.sentiment)}</span>
            <span>{str(e.player)}:</span>
            <span>“{str(e.text)}”</span>
            <span className="muted">tick {str(e.tick)}</span>
          </div>
        ))}
      </Panel>
    </div>
  );
}
