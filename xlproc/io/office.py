"""LibreOffice headless: find it, convert a document with it.

Used for ``xlproc report --pdf`` and by the tests to re-save workbooks the way another
office suite would. Each call runs with its own throw-away user profile so parallel
conversions never fight over a lock file.

Fonts: the report asks for the fonts of Chinese official documents (方正小标宋简体,
仿宋_GB2312, 黑体, 楷体_GB2312), which Linux machines rarely have. Left to itself
LibreOffice ignores the template's ``altName`` hints and renders all of them in one
fallback face (and digits in a Latin-only face). So the throw-away profile gets a font
replacement table (Tools ▸ Options ▸ Fonts, ``org.openoffice.Office.Common/Font/
Substitution``) mapping each to an installed CJK face of the same family: serif (宋 /
仿宋 / 小标宋) → Noto Serif CJK SC, sans (黑体) → Noto Sans CJK SC, kai (楷体) →
AR PL UKai CN. Faces are chosen once per process among the installed ones
(``fc-list``); a family with none installed is left to LibreOffice's own fallback.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from ..errors import XlprocError

_CANDIDATES = ("soffice", "libreoffice")


class OfficeError(XlprocError):
    """LibreOffice is missing or a conversion failed."""


# Installed faces to try, best first, per family.
FACES = {
    "serif": ("Noto Serif CJK SC", "Source Han Serif SC", "Source Han Serif CN", "AR PL UMing CN"),
    "sans": ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei"),
    "kai": ("AR PL UKai CN", "AR PL KaitiM GB", "Noto Serif CJK SC"),
}
# Fonts documents ask for → family. Latin faces of the body (Times New Roman) are mapped
# to the serif CJK face too, so digits and Latin letters never fall back to a Latin-only
# face with different metrics next to the Chinese text.
REQUESTED = {
    "方正小标宋简体": "serif",
    "方正小标宋_GBK": "serif",
    "华文中宋": "serif",
    "仿宋_GB2312": "serif",
    "仿宋": "serif",
    "FangSong": "serif",
    "FangSong_GB2312": "serif",
    "宋体": "serif",
    "SimSun": "serif",
    "Times New Roman": "serif",
    "黑体": "sans",
    "SimHei": "sans",
    "方正黑体_GBK": "sans",
    "微软雅黑": "sans",
    "楷体_GB2312": "kai",
    "楷体": "kai",
    "KaiTi": "kai",
    "KaiTi_GB2312": "kai",
}


@functools.lru_cache(maxsize=1)
def installed_families() -> frozenset[str]:
    """Font family names fontconfig knows (every localized alias), once per process."""
    try:
        proc = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    names = set()
    for line in proc.stdout.splitlines():
        names.update(n.strip() for n in line.split(",") if n.strip())
    return frozenset(names)


def font_replacements(installed: frozenset[str] | None = None) -> dict[str, str]:
    """Requested font → installed CJK face of its family (families with no face omitted)."""
    have = installed_families() if installed is None else installed
    chosen = {fam: next((f for f in faces if f in have), None) for fam, faces in FACES.items()}
    return {name: chosen[fam] for name, fam in REQUESTED.items() if chosen[fam] and name not in have}


def profile_settings(replacements: dict[str, str]) -> str:
    """registrymodifications.xcu with the font replacement table switched on."""
    base = "/org.openoffice.Office.Common/Font/Substitution"
    items = [f'<item oor:path="{base}"><prop oor:name="Replacement" oor:op="fuse"><value>true</value></prop></item>']
    for i, (name, face) in enumerate(sorted(replacements.items())):
        items.append(
            f'<item oor:path="{base}/FontPairs"><node oor:name="_{i}" oor:op="replace">'
            '<prop oor:name="Always" oor:op="fuse"><value>true</value></prop>'
            '<prop oor:name="OnScreenOnly" oor:op="fuse"><value>false</value></prop>'
            f'<prop oor:name="ReplaceFont" oor:op="fuse"><value>{escape(name)}</value></prop>'
            f'<prop oor:name="SubstituteFont" oor:op="fuse"><value>{escape(face)}</value></prop>'
            "</node></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        + "\n".join(items)
        + "\n</oor:items>\n"
    )


def _prepare_profile(profile: Path) -> None:
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(profile_settings(font_replacements()), encoding="utf-8")


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
        _prepare_profile(Path(profile))
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
