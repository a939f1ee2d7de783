// The local cluster that `ouroboros cluster up` runs on this server's data folder (GET /api/cluster,
// what `ouroboros cluster status --json` prints): each process with its role, pid, health, restarts
// and why it was last restarted; the job queues' lag per kind; the dead letters; the supervisor's
// latest alerts. No cluster: a line saying so (the API answers {"cluster": null}).

import { Panel, str, usePoll, type Row } from "./ui";

const HEALTH_COLOUR: Record<string, string> = {
  ok: "var(--accent)",
  restarting: "orange",
  failing: "var(--pink)",
  stopped: "gray",
};

export function Cluster() {
  const poll = usePoll<Row>("/api/cluster", 2000);
  const cluster = (poll.data?.cluster ?? null) as Row | null;
  const reason = poll.data?.reason;
  const procs = (Array.isArray(cluster?.processes) ? cluster?.processes : []) as Row[];
  const queues = (cluster?.queues ?? {}) as Row;
  const kinds = Object.entries((queues.kinds ?? {}) as Record<string, Row>);
  const dead = (Array.isArray(cluster?.dead_letters) ? cluster?.dead_letters : []) as Row[];
  const alerts = (Array.isArray(cluster?.alerts) ? cluster?.alerts : []) as Row[];
  return (
    <Panel title="Cluster" testId="panel-cluster">
      {poll.error && <div className="error">{poll.error}</div>}
      {cluster === null ? (
        <div className="muted" data-testid="cluster-none">
          no cluster runs on this data folder{reason ? ` (${str(reason)})` : ""} — start one with{" "}
          <code>ouroboros cluster up --data …</code>
        </div>
      ) : (
        <>
          <table data-testid="cluster-processes">
            <thead>
              <tr>
                <th>process</th>
                <th>role</th>
                <th>pid</th>
                <th>health</th>
                <th>restarts</th>
                <th>last restart</th>
              </tr>
            </thead>
            <tbody>
              {procs.map((p) => (
                <tr key={str(p.name)} data-testid={`cluster-proc-${str(p.name)}`}>
                  <td>{str(p.name)}</td>
                  <td>{str(p.role)}</td>
                  <td data-testid="cluster-pid">{p.pid === null ? "—" : str(p.pid)}</td>
                  <td data-testid="cluster-health" style={{ color: HEALTH_COLOUR[str(p.health)] ?? undefined }}>
                    {str(p.health ?? p.state)}
                  </td>
                  <td data-testid="cluster-restarts">{str(p.restarts)}</td>
                  <td className="muted small">{str(p.last_restart_reason)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>queues</h3>
          <div data-testid="cluster-queues">
            lag <b data-testid="cluster-lag">{str(queues.lag)}</b> ({str(queues.waiting)} waiting, {str(queues.running)} running),{" "}
            {str(queues.results)} done, <b data-testid="cluster-dead">{str(queues.dead)}</b> dead
          </div>
          <table>
            <tbody>
              {kinds.map(([kind, k]) => (
                <tr key={kind} data-testid={`cluster-kind-${kind}`}>
                  <td>{kind}</td>
                  <td>lag {str(k.lag)}</td>
                  <td className="muted small">
                    {str(k.waiting)} waiting, {str(k.running)} running
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {dead.length > 0 && (
            <>
              <h3>dead letters</h3>
              <ul data-testid="cluster-dead-letters">
                {dead.map((d) => (
                  <li key={str(d.key)}>
                    <code>{str(d.key)}</code> ({str(d.kind)}, {str(d.attempts)} attempts): {str(d.error)}
                  </li>
                ))}
              </ul>
            </>
          )}
          {alerts.length > 0 && (
            <>
              <h3>supervisor alerts</h3>
              <ul data-testid="cluster-alerts">
                {alerts
                  .slice()
                  .reverse()
                  .map((a) => (
                    <li key={str(a.id)}>
                      {str(a.name)} {str(a.event)}: {str(a.last_restart_reason)}
                    </li>
                  ))}
              </ul>
            </>
          )}
        </>
      )}
    </Panel>
  );
}
