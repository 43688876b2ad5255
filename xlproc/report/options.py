"""Per-district report settings (a pack's report.yaml) as a frozen dataclass.

A bureau edits report.yaml, not code, to name the documents its report is based on,
to choose whether expenditure classes of zero are listed, to switch the charts off or
to retitle the findings appendix. A malformed file is refused with its path and the
offending key before any workbook is read.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..form.spec import SpecError, templates_dir
from ..form.yamlfile import read_yaml

DEFAULT_BASIS = ("《{rubric_title}》", "《{year}年度部门整体绩效管理自评表》")


@dataclass(frozen=True)
class ReportOptions:
    """What a district may configure about its narrative report."""

    basis_documents: tuple[str, ...] = DEFAULT_BASIS
    list_zero_classes: bool = False  # list 功能分类 classes whose amount is 0
    charts: bool = True  # draw the expenditure and score charts
    self_name: str = "本部门"  # how the department refers to itself in generated sentences
    appendix_title: str = "附件：审核情况"
    source: Path | None = field(default=None, compare=False)


_BOOL_KEYS = ("list_zero_classes", "charts")
_TEXT_KEYS = ("self_name", "appendix_title")


def load_report_options(path: Path | None = None) -> ReportOptions:
    """Load report.yaml (the packaged one by default); raise SpecError when malformed."""
    path = Path(path) if path else templates_dir() / "report.yaml"
    if not path.exists():
        return ReportOptions(source=None)
    root = read_yaml(path)
    node: Any = root.get("report") if isinstance(root, dict) else None
    if not isinstance(node, dict):
        raise SpecError(f"{path}: (根): 应包含 report 键值映射")
    known = {"basis_documents", *_BOOL_KEYS, *_TEXT_KEYS}
    unknown = sorted(set(node) - known)
    if unknown:
        raise SpecError(f"{path}: report: 未知设置 {', '.join(unknown)}（可选：{', '.join(sorted(known))}）")
    kwargs: dict[str, Any] = {"source": path}
    basis = node.get("basis_documents", list(DEFAULT_BASIS))
    if not isinstance(basis, list) or not all(isinstance(b, str) and b.strip() for b in basis):
        raise SpecError(f"{path}: report.basis_documents: 应为非空文本列表")
    kwargs["basis_documents"] = tuple(b.strip() for b in basis)
    for key in _BOOL_KEYS:
        if key in node:
            if not isinstance(node[key], bool):
                raise SpecError(f"{path}: report.{key}: 应为 true 或 false")
            kwargs[key] = node[key]
    for key in _TEXT_KEYS:
        if key in node:
            if not isinstance(node[key], str) or not node[key].strip():
                raise SpecError(f"{path}: report.{key}: 应为非空文本")
            kwargs[key] = node[key].strip()
    return ReportOptions(**kwargs)


@functools.lru_cache(maxsize=4)
def default_options() -> ReportOptions:
    """The packaged report.yaml, loaded once per process."""
    return load_report_options()
