"""The district's figures as one dataset: pandas frames, exports, checks across departments.

    import xlproc
    ds = xlproc.dataset("收件箱/", previous="上年/")     # -> Dataset
    ds.fields, ds.tables["<table id>"], ds.findings, ds.problems, ds.meta

``xlproc.dataset`` is this package and is callable (it is the ``dataset`` function), so
``from xlproc.dataset import dataset`` and ``xlproc.dataset(...)`` both work.
Modules: record (compact per-file record, stdlib only), latest (duplicates), frames
(pandas frames), across (checks across departments), totals (district totals), export
(xlsx / csv / parquet), api (read a folder).
"""

from __future__ import annotations

import sys
import types
from typing import Any


def dataset(*args: Any, **kwargs: Any) -> Any:
    """Read, check and gather workbooks into a ``Dataset`` (see ``api.dataset``)."""
    from .api import dataset as _dataset

    return _dataset(*args, **kwargs)


def __getattr__(name: str) -> Any:  # the frames module imports pandas: only on use
    if name in ("Dataset", "FileEntry"):
        from . import frames

        return getattr(frames, name)
    raise AttributeError(name)


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return dataset(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["Dataset", "FileEntry", "dataset"]
