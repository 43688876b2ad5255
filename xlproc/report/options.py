"""Per-district report settings (a pack's report.yaml) as a frozen dataclass.

A bureau edits report.yaml, not code, to name the documents its report is based on
(each with its issuer and 文号), to switch the charts off, to retitle the findings
appendix and to point at its wording file (``wording: wording.yaml``, beside
report.yaml unless absolute). A malformed file is refused with its path and the
offending key before any workbook is read.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..form.memo import memo
from ..form.spec import FormSpec, SpecError, templates_dir
from ..form.yamlfile import malformed_in, read_yaml

DEFAULT_BASIS: tuple[dict[str, str], ...] = (
    {"issuer": "", "title": "{rubric_title}", "number": ""},
    {"issuer": "", "title": "{year}年度部门整体绩效管理自评表", "number": ""},
)
_DOC_KEYS = ("issuer", "title", "number")


@dataclass(frozen=True)
class ReportOptions:
    """What a district may configure about its narrative report."""

    basis_documents: tuple[dict[str, str], ...] = DEFAULT_BASIS
    charts: bool = True  # draw the expenditure and score charts
    appendix_title: str = "附件：审核情况"
    wording_file: str = "wording.yaml"  # the pack's wording, relative to report.yaml
    source: Path | None = field(default=None, compare=False)

    def __hash__(self) -> int:
        return hash((tuple(tuple(sorted(d.items())) for d in self.basis_documents), self.charts, self.appendix_title))

    @property
    def wording_path(self) -> Path:
        path = Path(self.wording_file)
        if path.is_absolute():
            return path
        return (self.source.parent if self.source else templates_dir()) / path

    def wording_for(self, spec: FormSpec) -> Path:
        """The wording of the edition ``spec`` belongs to: its pack's file, else report.yaml's."""
        if spec.source is not None and not Path(self.wording_file).is_absolute():
            beside = Path(spec.source).parent / self.wording_file
            if beside.exists():
                return beside
        return self.wording_path

    def wording(self, spec: FormSpec) -> Any:
        """The wording file checked against ``spec`` (loaded once per spec and file)."""
        from .wording import load_wording

        path = self.wording_for(spec)
        return memo(spec, ("wording", str(path)), lambda: load_wording(path, spec))


_BOOL_KEYS = ("charts",)
_TEXT_KEYS = ("appendix_title", "wording")


def load_report_options(path: Path | None = None) -> ReportOptions:
    """Load report.yaml (the packaged one by default); raise SpecError when malformed."""
    path = Path(path) if path else templates_dir() / "report.yaml"
    if not path.exists():
        return ReportOptions(source=None)
    with malformed_in(path):
        return _load_report_options(path)


def _load_report_options(path: Path) -> ReportOptions:
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
    if not isinstance(basis, list) or not basis:
        raise SpecError(f"{path}: report.basis_documents: 应为依据文件列表（每项含 title，可含 issuer、number）")
    docs = []
    for i, doc in enumerate(basis, 1):
        if isinstance(doc, str) and doc.strip():
            doc = {"title": doc.strip().strip("《》")}
        if not isinstance(doc, dict) or not isinstance(doc.get("title"), str) or not doc["title"].strip():
            raise SpecError(f"{path}: report.basis_documents 第{i}项: 应含 title（文件名称），可含 issuer、number")
        bad = sorted(set(doc) - set(_DOC_KEYS))
        if bad:
            raise SpecError(f"{path}: report.basis_documents 第{i}项: 未知设置 {', '.join(bad)}")
        docs.append({k: str(doc.get(k) or "").strip() for k in _DOC_KEYS})
    kwargs["basis_documents"] = tuple(docs)
    for key in _BOOL_KEYS:
        if key in node:
            if not isinstance(node[key], bool):
                raise SpecError(f"{path}: report.{key}: 应为 true 或 false")
            kwargs[key] = node[key]
    for key in _TEXT_KEYS:
        if key in node:
            if not isinstance(node[key], str) or not node[key].strip():
                raise SpecError(f"{path}: report.{key}: 应为非空文本")
            kwargs["wording_file" if key == "wording" else key] = node[key].strip()
    return ReportOptions(**kwargs)


@functools.lru_cache(maxsize=4)
def default_options() -> ReportOptions:
    """The packaged report.yaml, loaded once per process."""
    return load_report_options()
