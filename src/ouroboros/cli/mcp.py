"""``ouroboros mcp --url URL [--token T]``: the MCP server on stdio, for an AI assistant that
launches it (Claude Desktop, an IDE). Every tool is a request to the running ``go`` at URL with the
token (``--token``, else ``$OUROBOROS_TOKEN``): the API's roles, TOTP rules and audit apply, and
the audit names the MCP client. ``go`` itself serves the same tools over streamable HTTP at
``/mcp`` on its port. Exit code 2 for bad input (no token, a URL that is not http(s))."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ouroboros.cli.core import _fail, app

TOKEN_ENV = "OUROBOROS_TOKEN"


@app.command("mcp")
def mcp(
    url: Annotated[str, typer.Option(help="The running go's admin API.")] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option(help=f"A bearer token of the API (default: ${TOKEN_ENV}).", show_default=False),
    ] = None,
) -> None:
    """Serve the Model Context Protocol on stdio, over a running go's admin API."""
    token = token or os.environ.get(TOKEN_ENV)
    if not token:
        _fail(f"a token is needed: --token or ${TOKEN_ENV} (ouroboros admin makes one)")
    if not url.startswith(("http://", "https://")):
        _fail(f"--url must be an http(s) address, got {url!r}")
    from ouroboros.server.mcp import HttpCaller, build_mcp

    build_mcp(HttpCaller(url), token=token).run("stdio")


__all__ = ["mcp"]
