"""``GET /api/cluster`` (viewer): the local cluster that ``ouroboros cluster up`` runs on this
server's data folder — what ``ouroboros cluster status --json`` prints: each process (name, role,
pid, state, health, restarts, last exit, last restart's reason), the job queues (waiting, running,
lag per kind, results, dead letters) and the supervisor's latest alerts.

``{"cluster": null}`` when no cluster runs here (no ``DATA/cluster.json``, or its supervisor is
gone), and ``{"cluster": null, "reason": ...}`` when its Redis does not answer: never an error.
The Redis URL itself is not shown (it may hold a password).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ouroboros.server.api.deps import Viewer, runtime_of

router = APIRouter(tags=["cluster"])


@router.get("/api/cluster", summary="The local cluster: processes, queues' lag, dead letters (null: none)")
def cluster(request: Request, user: Viewer) -> dict[str, Any]:
    from ouroboros.cluster.status import read_marker, status_doc
    from ouroboros.errors import ClusterError

    url = read_marker(runtime_of(request).data_dir)
    if url is None:
        return {"cluster": None}
    try:
        return {"cluster": status_doc(url, timeout_s=2.0)}
    except ClusterError as exc:
        return {"cluster": None, "reason": exc.message}
