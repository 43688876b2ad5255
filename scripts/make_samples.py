"""Build the bundled sample workbooks from their data files.

    .venv/bin/python scripts/make_samples.py            # rewrite samples/inbox, samples/previous
    .venv/bin/python scripts/make_samples.py --check    # exit 1 when the checked-in files are stale
    .venv/bin/python scripts/make_samples.py --out DIR  # write DIR/inbox, DIR/previous instead

One YAML file per department under ``samples/data/`` (the 2023 workbooks, written to
``samples/inbox/<NN>_<部门名称>.xlsx``), ``samples/data/2024/`` (the 2024 edition's,
written to ``samples/inbox/2024/``: one inbox mixing two editions), and last year's
workbooks for the cross-year rules, written as ``<NN>_<部门名称>_<年度>.xlsx``:
``samples/data/previous/`` → ``samples/previous/`` (2022, for the 2023 samples) and
``samples/data/2024/previous/`` → ``samples/previous/2023/`` (for the 2024 samples).
A data file holds

    pack:    zpb-2024                # the form pack (edition); inherited via extends; default: the default pack
    extends: ../02_sifaju.yaml      # optional: start from another file's data
    values:  {field_id: value, ...}  # null removes an inherited value
    tables:  {table_id: [{column_id: value, ...}, ...]}  # replaces an inherited table

Numbers are written as strings ("197.06") so they stay exact and are converted by the
field type of the form spec; ``{raw: "约10"}`` puts the text into the cell as typed
(the "text in a number cell" mistakes). The workbooks come from ``fill_workbook``, so
they follow the current form spec: rerun this script whenever the form changes.

``--check`` regenerates into a temporary folder and compares what ``read_workbook``
extracts from each file (not the zip bytes, which carry timestamps) with the
checked-in workbooks.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xlproc.form.packs import FormPack, default_pack, pack_by_id  # noqa: E402
from xlproc.template.fill import fill_workbook  # noqa: E402

DATA = ROOT / "samples" / "data"
SAMPLES = ROOT / "samples"
DECIMAL_TYPES = ("money", "percent", "number")
INTEGER_TYPES = ("count", "year")


class SampleDataError(Exception):
    """A data file is malformed (unknown field, a value that does not fit its type …)."""


@dataclass(frozen=True)
class Sample:
    """One workbook to build: where it goes and what it holds (converted values)."""

    source: Path
    folder: str  # "inbox", "inbox/2024" or "previous"
    filename: str
    pack: FormPack
    values: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]


def _load_raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The file's ``values``/``tables`` merged over the file it ``extends``."""
    if path in seen:
        raise SampleDataError(f"{path}: extends 形成循环")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not set(data) <= {"pack", "extends", "values", "tables"}:
        raise SampleDataError(f"{path}: only 'pack', 'extends', 'values' and 'tables' are allowed at the top level")
    values: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    pack = None
    if data.get("extends"):
        base = _load_raw((path.parent / data["extends"]).resolve(), (*seen, path))
        values, tables, pack = base["values"], base["tables"], base["pack"]
    for key, value in (data.get("values") or {}).items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    tables.update(data.get("tables") or {})
    return {"values": values, "tables": tables, "pack": data.get("pack") or pack}


def convert_value(value: Any, field_type: str, where: str) -> Any:
    """A YAML value → what ``fill_workbook`` writes for a field or column of ``field_type``."""
    if isinstance(value, dict):
        if set(value) != {"raw"} or not isinstance(value["raw"], str):
            raise SampleDataError(f"{where}: a mapping value must be {{raw: text}}")
        return value["raw"]  # typed into the cell as text, whatever the field type
    if field_type in DECIMAL_TYPES or field_type in INTEGER_TYPES:
        if isinstance(value, float):
            raise SampleDataError(f'{where}: write numbers as strings ("{value}") so they stay exact')
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise SampleDataError(f"{where}: {value!r} is not a number; use {{raw: ...}} for text") from None
        if not str(value).isascii():
            raise SampleDataError(f"{where}: {value!r} is not ASCII; use {{raw: ...}} for text as typed")
        if field_type in INTEGER_TYPES:
            if number != number.to_integral_value():
                raise SampleDataError(f"{where}: {value!r} is not a whole number")
            return int(number)
        return number
    if field_type == "date":
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise SampleDataError(f"{where}: {value!r} is not a YYYY-MM-DD date") from None
    return str(value)


def load_sample(path: Path, folder: str) -> Sample:
    """Read one data file and convert every value by its type in its pack's form spec."""
    raw = _load_raw(path.resolve())
    pack = pack_by_id(str(raw["pack"])) if raw["pack"] else default_pack()
    if pack is None:
        raise SampleDataError(f"{path}: pack: {raw['pack']!r} is not an installed pack")
    spec = pack.spec
    values: dict[str, Any] = {}
    for fid, value in raw["values"].items():
        field = spec.fields.get(fid)
        if field is None or not field.is_input:
            raise SampleDataError(f"{path}: values.{fid}: not an input field of the form")
        values[fid] = convert_value(value, field.type, f"{path}: values.{fid}")
    tables: dict[str, list[dict[str, Any]]] = {}
    for tid, rows in raw["tables"].items():
        table = spec.tables.get(tid)
        if table is None:
            raise SampleDataError(f"{path}: tables.{tid}: no such table in the form")
        if len(rows) > table.rows:
            raise SampleDataError(f"{path}: tables.{tid}: {len(rows)} rows, the template has {table.rows}")
        out_rows = []
        for i, row in enumerate(rows):
            out = {}
            for cid, value in row.items():
                try:
                    col = table.column(cid)
                except KeyError:
                    raise SampleDataError(f"{path}: tables.{tid}[{i}].{cid}: no such column") from None
                if value is not None:
                    out[cid] = convert_value(value, col.type, f"{path}: tables.{tid}[{i}].{cid}")
            out_rows.append(out)
        tables[tid] = out_rows
    name = str(values.get(spec.department_field, "")).strip()
    if not name:
        raise SampleDataError(f"{path}: values.{spec.department_field} is required (it names the file)")
    number = path.stem.split("_", 1)[0]
    if not number.isdigit():
        raise SampleDataError(f"{path}: the file name must start with a number, e.g. 01_name.yaml")
    year = values.get(spec.year_field, "")
    filename = f"{number}_{name}.xlsx" if folder.startswith("inbox") else f"{number}_{name}_{year}.xlsx"
    return Sample(path, folder, filename, pack, values, tables)


# output folder → data folder: the 2023 inbox and its 2022 workbooks, the 2024 inbox and its 2023 workbooks
FOLDERS = {"inbox": "", "inbox/2024": "2024", "previous": "previous", "previous/2023": "2024/previous"}


def load_samples(data_dir: Path = DATA) -> list[Sample]:
    """Every sample described under ``data_dir`` (the inbox's, then last year's)."""
    samples = []
    for folder, sub in FOLDERS.items():
        samples += [load_sample(p, folder) for p in sorted((data_dir / sub).glob("*.yaml"))]
    names = [(s.folder, s.filename) for s in samples]
    if len(set(names)) != len(names):
        raise SampleDataError("two data files produce the same workbook name")
    return samples


def build(out_root: Path = SAMPLES, data_dir: Path = DATA) -> list[Path]:
    """Write every sample workbook under ``out_root``/inbox and /previous; remove stale ones."""
    samples = load_samples(data_dir)
    written = []
    for folder in FOLDERS:
        target = out_root / folder
        target.mkdir(parents=True, exist_ok=True)
        keep = {s.filename for s in samples if s.folder == folder}
        for old in target.glob("*.xlsx"):
            if old.name not in keep:
                old.unlink()
    for s in samples:
        written.append(fill_workbook(out_root / s.folder / s.filename, s.values, s.tables, spec=s.pack.spec))
    return written


def extracted(path: Path) -> dict[str, Any]:
    """What the reader gets out of a workbook, without its location: the comparison projection."""
    from xlproc.reading.workbook import read_workbook

    data = read_workbook(path).to_dict()
    data.pop("source", None)
    return data


def stale_samples(out_root: Path = SAMPLES, data_dir: Path = DATA) -> list[str]:
    """Workbooks under ``out_root`` that are missing, extra, or differ from their data (empty: up to date)."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="xlproc-samples-") as tmp:
        fresh_root = Path(tmp)
        build(fresh_root, data_dir)
        for folder in FOLDERS:
            fresh = {p.name for p in (fresh_root / folder).glob("*.xlsx")}
            current = {p.name for p in (out_root / folder).glob("*.xlsx")}
            problems += [f"{folder}/{n}: missing" for n in sorted(fresh - current)]
            problems += [f"{folder}/{n}: not produced by any data file" for n in sorted(current - fresh)]
            for name in sorted(fresh & current):
                if extracted(fresh_root / folder / name) != extracted(out_root / folder / name):
                    problems.append(f"{folder}/{name}: differs from its data file")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line: build (default) or ``--check``; returns the exit code (0 ok, 1 stale, 2 bad data)."""
    parser = argparse.ArgumentParser(description="Build the sample workbooks from samples/data/*.yaml.")
    parser.add_argument("--check", action="store_true", help="exit 1 when the checked-in samples are stale")
    parser.add_argument("--out", type=Path, default=SAMPLES, help="root folder for inbox/ and previous/")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = stale_samples(args.out)
            for p in problems:
                print(f"stale: {p}")
            if problems:
                print("Run: .venv/bin/python scripts/make_samples.py")
                return 1
            print("samples are up to date")
            return 0
        for path in build(args.out):
            print(path)
    except SampleDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
