"""Terminal front end: the typer app, rich tables and the progress bar.

The only package that imports typer or rich; nothing in the library imports it.
"""

from .app import app, main

__all__ = ["app", "main"]
