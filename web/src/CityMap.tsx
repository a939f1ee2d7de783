// The city as a map (GET /api/worlds/neon/overview, every two seconds): each room at its grid
// coordinates, tinted by district, the districts named over their rooms, players (cyan, named)
// and npcs (yellow) in their rooms, and the rooms that patches added ringed in pink and listed.

import { usePoll, str, type Row } from "./ui";

const DISTRICT_COLORS = ["#1b3a4b", "#3a1b4b", "#4b3a1b", "#1b4b2e", "#4b1b2a", "#2a2a4b", "#3b4b1b"];

interface Room {
  id: string;
  name: string;
  x: number;
  y: number;
  level: number;
  district: string;
  added: boolean;
}

export function CityMap({ world = "neon" }: { world?: string }) {
  const o = usePoll<Row>(`/api/worlds/${world}/overview`, 2000);
  if (o.error) return <div className="muted small">{o.error}</div>;
  if (!o.data) return <div className="muted">…</div>;
  const rooms = (o.data.rooms ?? []) as Room[];
  const districts = (o.data.districts ?? []) as Row[];
  const players = (o.data.players ?? []) as Row[];
  const npcs = (o.data.npcs ?? []) as Row[];
  const cell = 30;
  const maxX = Math.max(...rooms.map((r) => r.x), 1);
  const maxY = Math.max(...rooms.map((r) => r.y), 1);
  const w = (maxX + 2) * cell;
  const h = (maxY + 2) * cell;
  const color = new Map(districts.map((d, i) => [str(d.id), DISTRICT_COLORS[i % DISTRICT_COLORS.length]]));
  const at = new Map(rooms.map((r) => [r.id, r]));
  const pos = (r: Room) => [(r.x + 1) * cell + r.level * 4, (r.y + 1) * cell - r.level * 4] as const;
  const byRoom = (list: Row[]) => {
    const m = new Map<string, Row[]>();
    for (const e of list) m.set(str(e.room), [...(m.get(str(e.room)) ?? []), e]);
    return m;
  };
  const playersAt = byRoom(players);
  const npcsAt = byRoom(npcs);
  const added = rooms.filter((r) => r.added);
  return (
    <div data-testid="citymap">
      <div className="small muted">
        {rooms.length} rooms · {districts.length} districts · {players.length} players online · {npcs.length} npcs ·{" "}
        <span style={{ color: "#ff2bd6" }}>{added.length} rooms added by patches</span>
      </div>
      <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} className="citymap">
        {rooms.map((r) => {
          const [x, y] = pos(r);
          return (
            <rect
              key={r.id}
              x={x - cell / 2 + 2}
              y={y - cell / 2 + 2}
              width={cell - 4}
              height={cell - 4}
              fill={color.get(r.district) ?? "#222"}
              stroke={r.added ? "#ff2bd6" : "#2c3048"}
              strokeWidth={r.added ? 3 : 1}
              data-testid={r.added ? "citymap-added" : undefined}
            >
              <title>{`${r.name} (${r.id}, level ${r.level})${r.added ? " — added by a patch" : ""}`}</title>
            </rect>
          );
        })}
        {districts.map((d) => (
          <text
            key={str(d.id)}
            data-testid="citymap-district"
            x={(Number(d.x) + 1) * cell}
            y={(Number(d.y) + 1) * cell}
            textAnchor="middle"
            fontSize={18}
            fontWeight="bold"
            fill="#ffffffaa"
            stroke="#000"
            strokeWidth={0.6}
          >
            {str(d.name)}
          </text>
        ))}
        {[...npcsAt].map(([rid, list]) => {
          const r = at.get(rid);
          if (!r) return null;
          const [x, y] = pos(r);
          return (
            <circle key={`n-${rid}`} data-testid="citymap-npc" cx={x + 6} cy={y + 6} r={3 + Math.min(list.length, 4)} fill="#ffd166">
              <title>{list.map((n) => str(n.name)).join(", ")}</title>
            </circle>
          );
        })}
        {[...playersAt].map(([rid, list]) => {
          const r = at.get(rid);
          if (!r) return null;
          const [x, y] = pos(r);
          return (
            <g key={`p-${rid}`} data-testid="citymap-player">
              <circle cx={x - 5} cy={y - 5} r={6} fill="#00f0ff" />
              <text x={x + 4} y={y - 8} fontSize={11} fill="#00f0ff">
                {list.map((p) => str(p.name)).join(", ")}
              </text>
            </g>
          );
        })}
      </svg>
      <div className="small">
        <span className="badge" style={{ color: "#00f0ff" }}>● players</span> <span className="badge" style={{ color: "#ffd166" }}>● npcs</span>{" "}
        <span className="badge" style={{ color: "#ff2bd6" }}>□ added rooms</span>
        {added.length > 0 && <span data-testid="citymap-added-list"> added: {added.map((r) => r.name).join(", ")}</span>}
      </div>
    </div>
  );
}
