"""xlproc — 部门整体绩效管理自评表的填报、审核、批注、报告与批量处理.

The public API is small; the CLI (``xlproc.cli``) is a thin shell over it.
"""

from __future__ import annotations

__version__ = "0.1.0"


def __getattr__(name: str):  # ``xlproc.dataset(...)``: the package is callable, loaded on first use
    if name == "dataset":
        import importlib

        return importlib.import_module(".dataset", __name__)
    raise AttributeError(name)
