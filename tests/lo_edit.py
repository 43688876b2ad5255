"""Edit a workbook inside LibreOffice Calc through UNO, as a department would by hand.

Run with the system Python that has the ``uno`` module (Debian's python3-uno):

    /usr/bin/python3 tests/lo_edit.py IN.xlsx OUT.xlsx EDITS.json

EDITS is a list of operations, applied in order:
    {"op": "insert_rows", "sheet": "绩效目标", "row": 6, "count": 2}   (1-based row: insert above it)
    {"op": "set", "sheet": "基本情况", "cell": "B12", "value": 8}     (number or text)
    {"op": "comment", "sheet": "基本情况", "cell": "B12", "text": "..."}
    {"op": "colour", "sheet": "基本情况", "cell": "A4", "rgb": "FF0000"}
The document is stored as Excel 2007+ (.xlsx) with LibreOffice's own writer, so the
result is a genuine "re-saved by another office suite" file. Sheet protection is
lifted for the edits and restored before saving, as a department's IT helper would.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]


def _prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def _connect(pipe: str, proc: subprocess.Popen):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(240):
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except NoConnectException:
            if proc.poll() is not None:
                raise RuntimeError("soffice exited before accepting connections") from None
            time.sleep(0.25)
    raise RuntimeError("could not connect to soffice")


def main(src: str, dst: str, edits_path: str) -> None:
    with open(edits_path, encoding="utf-8") as fh:
        edits = json.load(fh)
    pipe = f"xlproc{uuid.uuid4().hex}"
    profile = tempfile.mkdtemp(prefix="xlproc-uno-")
    proc = subprocess.Popen(
        [
            os.environ.get("XLPROC_SOFFICE", "soffice"),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            f"--accept=pipe,name={pipe};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ctx = _connect(pipe, proc)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        url = uno.systemPathToFileUrl(os.path.abspath(src))
        doc = desktop.loadComponentFromURL(url, "_blank", 0, (_prop("Hidden", True),))
        sheets = doc.Sheets
        touched = set()
        for e in edits:
            sheet = sheets.getByName(e["sheet"])
            if sheet.isProtected():
                sheet.unprotect("")
                touched.add(e["sheet"])
            if e["op"] == "insert_rows":
                sheet.Rows.insertByIndex(e["row"] - 1, e.get("count", 1))
                continue
            cell = sheet.getCellRangeByName(e["cell"])
            if e["op"] == "set":
                if isinstance(e["value"], str):
                    cell.setString(e["value"])
                else:
                    cell.setValue(e["value"])
            elif e["op"] == "comment":
                sheet.Annotations.insertNew(cell.CellAddress, e["text"])
            elif e["op"] == "colour":
                cell.CellBackColor = int(e["rgb"], 16)
            else:
                raise ValueError(f"unknown op {e['op']}")
        for name in touched:
            sheets.getByName(name).protect("")
        out = uno.systemPathToFileUrl(os.path.abspath(dst))
        doc.storeToURL(out, (_prop("FilterName", "Calc MS Excel 2007 XML"),))
        doc.close(True)
    finally:
        with contextlib.suppress(Exception):
            desktop.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main(*sys.argv[1:4])
