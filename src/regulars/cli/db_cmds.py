"""``regulars init``: create or migrate the database."""

from __future__ import annotations

import typer

from regulars.cli.common import console, runtime


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init() -> None:
        """Create the database (or bring it to the newest schema)."""
        rt = runtime()
        console.print(f"Database ready: [bold]{rt.engine.url.render_as_string()}[/]")
