"""``--pack``: which form packs a command may use (a folder, or the id of an installed pack)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import SpecError
from ..form.packs import FormPack, default_pack, editions_text, load_pack, pack_by_id

PACK_HELP = "表单包文件夹或已安装表单包的 id（可多次给出）；工作簿按其自身的表单版本选用表单包"
PacksOption = Annotated[list[str] | None, typer.Option("--pack", help=PACK_HELP, metavar="表单包")]
OnePackOption = Annotated[
    str | None,
    typer.Option("--pack", help="生成哪个表单包的模板：文件夹或已安装表单包的 id（默认：最新的已安装表单包）"),
]


def resolve_pack(value: str) -> FormPack:
    """A ``--pack`` value: a pack folder, or the id of an installed pack."""
    path = Path(value)
    if path.is_dir():
        return load_pack(path)
    pack = pack_by_id(value)
    if pack is None:
        raise SpecError(f"找不到表单包“{value}”：既不是文件夹，也不是已安装表单包的 id（已安装：{editions_text()}）")
    return pack


def resolve_packs(values: list[str] | None) -> tuple[FormPack, ...]:
    return tuple(resolve_pack(v) for v in values or ())


def resolve_one(value: str | None) -> FormPack:
    return resolve_pack(value) if value else default_pack()
