"""Write a ``Dataset``: .xlsx (one sheet per frame), .csv or .parquet (a folder, one file per frame).

xlsx: written straight to SpreadsheetML by ``ooxml.tablebook`` (rows deflated as they come),
Chinese column labels, numbers as numbers with the form's decimals, dates as dates, every
text a string cell (a department name starting with ``=`` stays text), print setup on
every sheet.
csv: UTF-8 with BOM (Excel on Windows reads the Chinese), field ids as headers, exact
decimal digits. parquet (pyarrow, the ``[parquet]`` extra): field ids as column names,
exact decimals as decimal128/256 columns, dates as date32.
Every output is written beside the target and renamed into place.
"""

from __future__ import annotations

import contextlib
import shutil
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import OutputError, XlprocError
from ..io.atomic import TEMP_PREFIX, atomic_path
from ..results import SEVERITY_LABELS
from .frames import Dataset
from .sheets import Sheet, cannot_write, new_book, portable_row

FORMATS = ("xlsx", "csv", "parquet")
_NUM_FORMATS = {0: "0", 1: "0.0", 2: "#,##0.00", 3: "0.000", 4: "0.0000"}


def format_of(path: Path, fmt: str | None = None) -> str:
    """The export format: given, or from the suffix of ``path``."""
    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise XlprocError(f"无法识别导出格式“{fmt or Path(path).name}”：输出文件名应以 .xlsx、.csv 或 .parquet 结尾")
    return fmt


def write_dataset(ds: Dataset, path: Path, fmt: str | None = None) -> Path:
    """Write ``ds`` to ``path`` in ``fmt`` (default: from the suffix); return the path."""
    path = Path(path)
    fmt = format_of(path, fmt)
    try:
        if fmt == "xlsx":
            with atomic_path(path) as tmp:
                write_xlsx(ds, tmp)
        else:
            with _atomic_folder(path) as tmp:
                (write_csv if fmt == "csv" else write_parquet)(ds, tmp)
    except OSError as exc:  # disk full, EFBIG, a file held open on Windows
        raise cannot_write(path, exc) from None
    return path


@contextlib.contextmanager
def _atomic_folder(target: Path):
    """A temporary folder beside ``target``, renamed onto it on success (an old one replaced)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{TEMP_PREFIX}{target.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        if target.is_dir():
            old = target.parent / f"{TEMP_PREFIX}old-{target.name}"
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            if target.exists():
                raise OutputError(f"{target} 已存在且不是文件夹：csv / parquet 导出为一个文件夹，请换一个名称")
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _plain(value: Any) -> Any:
    """None for pandas' missing markers, the value otherwise."""
    if value is None:
        return None
    try:
        return None if value != value else value  # NaN / NaT / pd.NA
    except (TypeError, ValueError):
        return value


def _decimals(ds: Dataset, name: str) -> dict[str, int | None]:
    spec = ds.spec
    if name == "fields":
        return {fid: spec.decimals(f) for fid, f in spec.fields.items()}
    if name in spec.tables:
        return {c.id: spec.decimals(c) for c in spec.tables[name].columns}
    return {}


def _layouts(ds: Dataset) -> list[tuple[str, list[str], Any, dict[str, Any]]]:
    """(sheet name, column heads, frame, layout for ``TableBook.add_sheet``) per frame."""
    out = []
    names = ds.sheet_names()
    for name, frame in ds.frames().items():
        labels = ds.labels(name)
        decimals = _decimals(ds, name)
        columns = list(frame.columns)
        heads = [labels.get(col, col) for col in columns]
        widths = [
            min(max(8, len(head) * 1.6 + 2), 40 if col not in ("message", "error") else 60)
            for col, head in zip(columns, heads, strict=True)
        ]
        formats = [_NUM_FORMATS.get(d) if (d := decimals.get(col)) is not None else None for col in columns]
        coded = {columns.index("severity"): SEVERITY_LABELS} if "severity" in columns and name != "fields" else {}
        layout = {
            "widths": widths,
            "number_formats": formats,
            "value_labels": coded,
            "freeze_columns": 2 if name != "meta" else 1,
            "print_title": f"全区数据：{names.get(name, name)}",
            "key_columns": 2 if "source" in columns[:2] else 1,
        }
        out.append((names.get(name, name), heads, frame, layout))
    return out


def write_xlsx(ds: Dataset, path: Path) -> None:
    book = new_book()
    for sheet, heads, frame, layout in _layouts(ds):
        book.add_sheet(sheet, heads, frame.itertuples(index=False, name=None), row_count=len(frame), **layout)
    path.write_bytes(book.to_bytes())


def xlsx_sheets(ds: Dataset) -> list[Sheet]:
    """What ``write_xlsx`` writes, as plain data (``sheets.write_sheets`` writes it without pandas)."""
    out = []
    for sheet, heads, frame, layout in _layouts(ds):
        rows = frame.to_numpy(dtype=object).tolist()  # half the time of itertuples
        out.append(Sheet(sheet, heads, [portable_row(row) for row in rows], layout))
    return out


def cell_count(ds: Dataset) -> int:
    """Cells of all the frames (what handing them to another process costs)."""
    return sum(frame.size for frame in ds.frames().values())


def write_csv(ds: Dataset, folder: Path) -> None:
    for name, frame in ds.frames().items():
        out = frame.map(lambda v: None if _plain(v) is None else (v.isoformat() if isinstance(v, date) else v))
        out.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8-sig")


def write_parquet(ds: Dataset, folder: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise XlprocError("导出 parquet 需要 pyarrow：pip install 'xlproc[parquet]'") from None
    for name, frame in ds.frames().items():
        arrays, fields = [], []
        for col in frame.columns:
            values = [_plain(v) for v in frame[col]]
            try:
                arr = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                arr = pa.array([None if v is None else str(v) for v in values], type=pa.string())
            arrays.append(arr)
            fields.append(pa.field(str(col), arr.type))
        table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
        pq.write_table(table, folder / f"{name}.parquet")
