"""LibreOffice headless: find it, convert a document with it.

Used for ``xlproc report --pdf`` and by the tests to re-save workbooks the way another
office suite would. Each call runs with its own throw-away user profile so parallel
conversions never fight over a lock file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import XlprocError

_CANDIDATES = ("soffice", "libreoffice")


class OfficeError(XlprocError):
    """LibreOffice is missing or a conversion failed."""


def find_soffice() -> str | None:
    """Path of the LibreOffice executable, or None when it is not installed."""
    env = os.environ.get("XLPROC_SOFFICE")
    if env and Path(env).exists():
        return env
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def convert(source: Path, target_format: str, outdir: Path, timeout: float = 180) -> Path:
    """Convert ``source`` with LibreOffice headless into ``outdir``; return the new file.

    ``target_format`` is a LibreOffice filter spec such as ``"pdf"``, ``"xlsx"`` or
    ``"xlsx:Calc MS Excel 2007 XML"``.
    """
    soffice = find_soffice()
    if soffice is None:
        raise OfficeError("未找到 LibreOffice（soffice），无法转换。请安装 LibreOffice 后重试。")
    source = Path(source).resolve()
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    ext = target_format.split(":", 1)[0]
    with tempfile.TemporaryDirectory(prefix="xlproc-lo-") as profile:
        cmd = [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            target_format,
            "--outdir",
            str(outdir),
            str(source),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise OfficeError(f"LibreOffice 转换超时（{timeout:.0f} 秒）：{source}") from exc
    produced = outdir / f"{source.stem}.{ext}"
    if proc.returncode != 0 or not produced.exists():
        detail = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or ["无输出"]
        raise OfficeError(f"LibreOffice 转换失败：{source}（{detail[0]}）")
    return produced


def resave_xlsx(source: Path, outdir: Path) -> Path:
    """Open and save an .xlsx with LibreOffice Calc, as a department using it would."""
    return convert(source, "xlsx:Calc MS Excel 2007 XML", outdir)
