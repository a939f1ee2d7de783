"""``ouroboros admin``: recover access to the admin API of a go data folder, locally.

``admin reset-secret --data DIR [--user NAME] [--reason TEXT]`` issues a new one-time login secret
for a user of ``DIR/server.sqlite3`` (and, for an admin, a new TOTP secret), printed once; the
user's unspent one-time secrets and an admin's old TOTP codes are void from then on; live tokens
stay live. Whoever can open the data folder has this authority (the file is its owner's alone);
the reset is one row of the audit table (actor ``local``). It works while ``ouroboros go`` runs.
Exit codes: 0 done; 2 bad input (no such folder, no server database there, no such user), one
line on stderr; ``--json`` prints one JSON object on stdout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ouroboros.cli.boundary import command_boundary
from ouroboros.cli.core import app
from ouroboros.errors import BadInputError

admin_app = typer.Typer(help="Recover access to the admin API (local: the data folder is the authority).")
app.add_typer(admin_app, name="admin", no_args_is_help=True)


@admin_app.command("reset-secret")
def reset_secret(
    data: Annotated[Path, typer.Option(help="The go data folder (holding server.sqlite3).")] = Path(
        "ouroboros-data"
    ),
    user: Annotated[str, typer.Option(help="Whose login to reset.")] = "admin",
    reason: Annotated[str, typer.Option(help="Why (written to the audit).")] = "lost login",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
) -> None:
    """Issue a new one-time login secret (and an admin's TOTP secret) for USER, shown once."""
    from ouroboros.server.api.auth import DB_FILE, AuthStore

    with command_boundary():
        if not data.is_dir():
            raise BadInputError(f"--data {data}: no such folder")
        if not (data / DB_FILE).is_file():
            raise BadInputError(
                f"--data {data} has no {DB_FILE}: not a go data folder (ouroboros go makes one)"
            )
        if not reason.strip():
            raise BadInputError("--reason must not be empty")
        store = AuthStore(data)
        try:
            issued = store.reset_secret(user, reason)
        except KeyError:
            raise BadInputError(f"no user {user!r} in {data / DB_FILE}") from None
        finally:
            store.close()
    if as_json:
        doc = {
            "user": issued.username,
            "one_time_secret": issued.one_time_secret,
            "totp_secret": issued.totp_secret or None,
            "totp_uri": issued.totp_uri or None,
        }
        typer.echo(json.dumps(doc, sort_keys=True))
        return
    typer.echo(f"one-time login for {issued.username} (shown once): {issued.one_time_secret}")
    if issued.totp_uri:
        typer.echo(f"new TOTP (add it to an authenticator app now; the old one is void): {issued.totp_uri}")
    typer.echo("log in at /api/auth/login or on the dashboard with this secret; it works once.")


__all__ = ["admin_app", "reset_secret"]
