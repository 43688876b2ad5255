"""Reading the declarative YAML files with errors that name the file and YAML path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; SpecError (with line and column) when unreadable or malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: 无法读取文件（{exc.strerror or exc}）") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行第{mark.column + 1}列" if mark else ""
        raise SpecError(f"{path}: YAML 语法错误 {where}：{getattr(exc, 'problem', exc)}") from exc


class YamlContext:
    """Carries the file path so every error names file and YAML path."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, message: str) -> SpecError:
        return SpecError(f"{self.path}: {where}: {message}")

    def mapping(self, node: Any, where: str) -> dict[str, Any]:
        if not isinstance(node, dict):
            raise self.fail(where, "应为键值映射")
        return node

    def seq(self, node: Any, where: str) -> list[Any]:
        if not isinstance(node, list) or not node:
            raise self.fail(where, "应为非空列表")
        return node

    def text(self, node: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = node.get(key, default)
        if value is None:
            raise self.fail(where, f"缺少 {key}")
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise self.fail(f"{where}.{key}", "应为文本")
        return str(value)
