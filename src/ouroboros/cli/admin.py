"""``ouroboros admin``: recover access to the admin API of a go data folder, locally.

``admin reset-secret [USER] --data DIR [--user NAME] [--reason TEXT] [--reset-totp]`` issues a new
one-time login secret for a user of ``DIR/server.sqlite3`` (default ``admin``), printed once and
written to ``DIR/admin-login.txt`` (0600); the user's unspent one-time secrets are void from then
on; an admin keeps its TOTP secret unless ``--reset-totp`` (then its old codes are void too); live
tokens stay live. Whoever can open the data folder has this authority (the file is its owner's alone);
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
    who: Annotated[str | None, typer.Argument(metavar="[USER]", help="Whose login to reset.")] = None,
    data: Annotated[Path, typer.Option(help="The go data folder (holding server.sqlite3).")] = Path(
        "ouroboros-data"
    ),
    user: Annotated[str | None, typer.Option(help="Whose login to reset (the same as USER).")] = None,
    reason: Annotated[str, typer.Option(help="Why (written to the audit).")] = "lost login",
    reset_totp: Annotated[
        bool, typer.Option("--reset-totp", help="Also a new TOTP secret (the old codes are void).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
) -> None:
    """Issue a new one-time login secret for USER (default admin), shown once and written to
    DATA/admin-login.txt (0600). An admin keeps its TOTP unless --reset-totp."""
    from ouroboros.cli.go import write_login_file
    from ouroboros.server.api.auth import DB_FILE, AuthStore

    with command_boundary():
        if who is not None and user is not None and who != user:
            raise BadInputError(f"two users named: {who!r} and --user {user!r}")
        user = who or user or "admin"
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
            issued = store.reset_secret(user, reason, reset_totp=reset_totp)
            role = next(u["role"] for u in store.users() if u["name"] == user)
        except KeyError:
            raise BadInputError(f"no user {user!r} in {data / DB_FILE}") from None
        finally:
            store.close()
    write_login_file(data, issued)
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
    elif role == "admin":
        typer.echo(
            "TOTP unchanged: the codes of the authenticator app still work (--reset-totp for new ones)"
        )
    typer.echo("log in at /api/auth/login or on the dashboard with this secret; it works once.")


__all__ = ["admin_app", "reset_secret"]
