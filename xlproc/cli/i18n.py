"""Typer's usage-error messages in Chinese.

Typer (≥ 0.20) carries its own copy of click whose messages are plain English
f-strings, so there is no message catalogue to hook: the finished message of a
usage error is translated here, pattern by pattern, before the error panel shows
it. Every message typer can raise is listed (``tests/test_cli_usage.py`` provokes
each kind); a message no pattern matches is shown with its English words replaced
where we know them, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# English words typer fills into its messages.
WORDS = {
    "argument": "参数",
    "option": "选项",
    "parameter": "参数",
    "integer": "整数",
    "int": "整数",
    "float": "数字",
    "number": "数字",
    "string": "文本",
    "str": "文本",
    "boolean": "是/否",
    "bool": "是/否",
    "File": "文件",
    "Directory": "文件夹",
    "Path": "路径",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
}


def _word(text: str) -> str:
    return WORDS.get(text.strip(), text.strip())


def _quoted(text: str) -> str:
    """'x' or "x" (Python repr quotes) → “x”."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return f"“{text}”"


def _hints(text: str) -> str:
    """ "'--jobs' / '-j'" → “--jobs” / “-j”."""
    return " / ".join(_quoted(part) for part in text.split(" / "))


_HINT = r"""(?:'[^']*'|"[^"]*"|\S+)"""
_HINTS = _HINT + r"(?: / " + _HINT + r")*"

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

_RULES: list[Rule] = [
    (
        re.compile(r"^Missing (argument|option|parameter)\s*(" + _HINTS + r")?\.\s*(.*)$", re.S),
        lambda m: f"缺少{_word(m[1])}{(' ' + _hints(m[2])) if m[2] else ''}。{translate(m[3]) if m[3] else ''}",
    ),
    (re.compile(r"^Missing parameter: (.*)$"), lambda m: f"缺少参数 {_quoted(m[1])}。"),
    (re.compile(r"^Missing command\.?$"), lambda m: "缺少命令。"),
    (
        re.compile(r"^No such command ('[^']*'|\S+?)\.?(?:\s+Did you mean (.+?)\?)?$", re.S),
        lambda m: f"没有命令 {_quoted(m[1])}。" + (f"是否想输入 {_hints(m[2].replace(', ', ' / '))}？" if m[2] else ""),
    ),
    (
        re.compile(r"^No such option: (\S+)(?: \(Possible options: (.*)\))?$", re.S),
        lambda m: f"没有选项 {_quoted(m[1])}。" + (f"是否想输入：{m[2]}？" if m[2] else ""),
    ),
    (
        re.compile(r"^Invalid value for (.+?): (.*)$", re.S),
        lambda m: f"{_hints(m[1])} 的取值无效：{translate(m[2])}",
    ),
    (re.compile(r"^Invalid value: (.*)$", re.S), lambda m: f"取值无效：{translate(m[1])}"),
    (
        re.compile(r"^Got unexpected extra arguments?(?:\(s\))? \((.*)\)$", re.S),
        lambda m: f"多余的参数：{m[1]}（本命令不接受这些参数，文件名含空格时请加引号）",
    ),
    (
        re.compile(r"^Option (.+?) requires (?:an argument|(\d+) arguments)\.$"),
        lambda m: f"选项 {_quoted(m[1])} 后面需要{'一个值' if not m[2] else f' {m[2]} 个值'}。",
    ),
    (re.compile(r"^Option (.+?) does not take a value\.$"), lambda m: f"选项 {_quoted(m[1])} 不接受取值。"),
    (re.compile(r"^Argument (.+?) takes (\d+) values\.$"), lambda m: f"参数 {_quoted(m[1])} 需要 {m[2]} 个值。"),
    (
        re.compile(r"^Value (.+?) is not a valid (\w+)\.$"),
        lambda m: f"{_quoted(m[1])} 不是有效的{_word(m[2])}。",
    ),
    (re.compile(r"^(.+?) is not a valid (\w+)\.$"), lambda m: f"{_quoted(m[1])} 不是有效的{_word(m[2])}。"),
    (re.compile(r"^(.+?) is not one of (.*)\.$", re.S), lambda m: f"{_quoted(m[1])} 不在可选值 {m[2]} 之中。"),
    (re.compile(r"^(.+?) is not in the range (.*)\.$"), lambda m: f"{m[1]} 不在范围 {m[2]} 之内。"),
    (
        re.compile(r"^(\w+) (.+?) (does not exist|is a file|is a directory|is not readable|is not writable)\.$"),
        lambda m: (
            f"{_word(m[1])} {_quoted(m[2])} "
            + {
                "does not exist": "不存在。",
                "is a file": "是一个文件，这里应为文件夹。",
                "is a directory": "是一个文件夹，这里应为文件。",
                "is not readable": "无法读取。",
                "is not writable": "无法写入。",
            }[m[3]]
        ),
    ),
    (
        re.compile(r"^(.+?) does not match the formats? (.*)\.$", re.S),
        lambda m: f"{_quoted(m[1])} 不符合格式 {m[2]}。",
    ),
    (re.compile(r"^(\d+) values are required, but (\d+) given\.$"), lambda m: f"需要 {m[1]} 个值，给了 {m[2]} 个。"),
    (
        re.compile(r"^Input should be (?:a )?valid (\w+)(?:,.*)?$", re.S),
        lambda m: f"应为有效的{_word(m[1])}。",
    ),
    (
        re.compile(r"^Input should be (greater|less) than( or equal to)? (\S+?)\.?$"),
        lambda m: f"应{'大于' if m[1] == 'greater' else '小于'}{'或等于' if m[2] else ''} {m[3]}。",
    ),
    (re.compile(r"^Input should be (.*)$", re.S), lambda m: f"取值不符合要求（应为 {m[1]}）。"),
    (re.compile(r"^Value must be an iterable\.$"), lambda m: "取值应为一组值。"),
    (re.compile(r"^Could not open file (.+?): (.*)$"), lambda m: f"无法打开文件 {_quoted(m[1])}：{m[2]}"),
    (re.compile(r"^Invalid start character for option \((.*)\)$"), lambda m: f"选项的起始字符无效（{m[1]}）"),
]


def translate(message: str) -> str:
    """The Chinese of one typer usage-error message (as much as is known)."""
    text = message.strip()
    for pattern, render in _RULES:
        m = pattern.match(text)
        if m:
            return render(m)
    return text


def is_translated(message: str) -> bool:
    """Whether ``message`` reads as Chinese: no run of three or more English words."""
    return re.search(r"[A-Za-z]{2,}(?:\s+[A-Za-z]{2,}){2,}", message) is None
