"""Terminal front end: the typer app, rich tables and the progress bar.

The only package that imports typer or rich; nothing in the library imports it.

``main`` (the ``xlproc`` console script) imports the app only when it runs. A batch's
worker processes re-import the script that started the parent (multiprocessing's
spawn / fork-server start-up runs the main script as ``__mp_main__``); importing
typer, rich and every command there cost each worker ~0.14 s before its first file.
The typer app itself is ``xlproc.cli.app.app``.
"""

from __future__ import annotations


def main() -> None:
    """Run the command line (the console script's entry point)."""
    from .app import main as run

    run()


__all__ = ["main"]
