"""Progress bar and closing table for ``xlproc batch`` (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from ..batch.events import ProgressEvent

PHASE_LABELS = {"previous": "读取上年工作簿", "process": "审核并生成"}


class RichProgress:
    """A callback drawing one progress bar per phase with counts and the ETA."""

    def __init__(self, console: Console | None = None):
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("失败 {task.fields[failed]}  错误 {task.fields[errors]}  提示 {task.fields[warnings]}"),
            TextColumn("沿用 {task.fields[cached]}"),
            TimeElapsedColumn(),
            TextColumn("剩余"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: ProgressEvent) -> None:
        fields = {"failed": event.failed, "errors": event.errors, "warnings": event.warnings, "cached": event.cached}
        task = self._tasks.get(event.phase)
        if task is None:
            task = self.progress.add_task(PHASE_LABELS.get(event.phase, event.phase), total=event.total, **fields)
            self._tasks[event.phase] = task
        self.progress.update(task, completed=event.done, total=event.total, **fields)


def closing_table(result: Any) -> Table:
    """The table printed after a batch: files, outcomes, findings, time."""
    t = Table(title="批量处理结果", show_header=False, title_justify="left")
    t.add_column("项目")
    t.add_column("数量", justify="right")
    rows = [
        ("工作簿", result.files),
        ("本次处理", result.processed),
        ("沿用上次结果（文件未变）", result.cached),
        ("处理失败", result.failed),
        ("跳过（非 .xlsx）", len(result.skipped)),
        ("强制性审核错误", result.errors),
        ("提示性问题（未说明）", result.open_warnings),
        ("提示性问题（已说明）", result.explained),
        ("重复报送的部门", len(result.duplicates)),
        ("用时", f"{result.elapsed_s:.1f} 秒"),
    ]
    for label, value in rows:
        style = "bold red" if label in ("处理失败", "强制性审核错误", "重复报送的部门") and value else ""
        t.add_row(label, str(value), style=style)
    return t
