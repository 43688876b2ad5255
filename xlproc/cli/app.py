"""The ``xlproc`` command line: resolve paths, call one library function, print, exit.

The app and its Chinese help, usage errors, ``-h`` and ``--version`` are in
``base``; each command is a module of ``commands/`` that registers itself on
import. To add a command: write ``commands/<name>.py`` with ``@app.command()`` and
add its name to ``COMMANDS`` below (the order of the help screen). Only the CLI
package imports typer and rich's console; nothing in the library imports it.
"""

from __future__ import annotations

import importlib

from .base import app

# Command modules under commands/, in the order the help screen lists them.
COMMANDS = ("template", "extract", "check", "annotate", "report", "batch", "dataset", "packs", "serve", "copydb")

for _name in COMMANDS:
    importlib.import_module(f"{__package__}.commands.{_name}")

__all__ = ["COMMANDS", "app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
