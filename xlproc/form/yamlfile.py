"""Reading the declarative YAML files with errors that name the file and YAML path."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from ..errors import SpecError, XlprocError, os_reason

MAX_YAML_BYTES = 4 * 1024 * 1024
MAX_ALIASES = 200  # "*anchor" uses per document: an alias bomb needs thousands
MAX_DEPTH = 60  # nesting of mappings and lists
MAX_EXPANDED_NODES = 200_000  # values counted as if every alias were copied out


class YamlLimitError(yaml.YAMLError):
    """The document breaks a size, alias or depth limit (``problem`` is Chinese)."""

    def __init__(self, problem: str, mark: Any = None):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class _Limits:
    """Refuses alias bombs and deep nesting while composing (mixed into a loader).

    Aliases share nodes, so a 1 KB document can stand for billions of values once
    anything walks it; the loader counts every node as if aliases were expanded.
    """

    _aliases = 0
    _depth = 0
    _sizes: dict[int, int]

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YamlLimitError(
                    f"别名（*引用）超过 {MAX_ALIASES} 个，疑似“别名炸弹”", self.peek_event().start_mark
                )
        mark = self.peek_event().start_mark
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlLimitError(f"嵌套超过 {MAX_DEPTH} 层", mark)
        try:
            node = Composer.compose_node(self, parent, index)  # type: ignore[arg-type]
        finally:
            self._depth -= 1
        if id(node) not in self._sizes:
            children = node.value if isinstance(node.value, list) else []
            size = 1
            for child in children:
                for part in child if isinstance(child, tuple) else (child,):
                    size += self._sizes.get(id(part), 1)
            if size > MAX_EXPANDED_NODES:
                raise YamlLimitError(f"展开别名后超过 {MAX_EXPANDED_NODES} 个值，疑似“别名炸弹”", mark)
            self._sizes[id(node)] = size
        return node


class LimitedLoader(_Limits, yaml.SafeLoader):
    """``yaml.SafeLoader`` (pure Python) with the limits."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._sizes = {}


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class FastLimitedLoader(_Limits, Composer, CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        """libyaml's C scanner and parser, with the Python composer that enforces the limits.

        About six times faster than the pure-Python loader on the pack files, which is
        what a worker process spends most of its start-up on.
        """

        def __init__(self, stream: Any):
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            Composer.__init__(self)
            self._sizes = {}

        def get_single_node(self) -> Any:  # the Python composer's, not CParser's
            return Composer.get_single_node(self)

    _Loader: type = FastLimitedLoader
else:  # pragma: no cover - PyYAML built without libyaml
    _Loader = LimitedLoader


def load_yaml_text(text: str) -> Any:
    """``yaml.safe_load`` with size, alias and depth limits (raises ``yaml.YAMLError``)."""
    if len(text) > MAX_YAML_BYTES:
        raise YamlLimitError(f"文件过大（超过 {MAX_YAML_BYTES // (1024 * 1024)} MB）")
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except RecursionError:
        raise YamlLimitError("嵌套过深") from None
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem or ""):  # libyaml's own limit (1000 levels)
            raise YamlLimitError(f"嵌套超过 {MAX_DEPTH} 层", exc.problem_mark) from None
        raise
    finally:
        loader.dispose()


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; SpecError (with line and column) when unreadable or malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: 无法读取文件（{os_reason(exc)}）") from exc
    try:
        return load_yaml_text(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行第{mark.column + 1}列" if mark else ""
        raise SpecError(f"{path}: YAML 语法错误 {where}：{getattr(exc, 'problem', exc)}") from exc


MAX_ID = 48  # a grid cell's name joins three ids: F_<grid>_<row>_<column> stays under Excel's 255
_IDENT = re.compile(rf"^[A-Za-z][A-Za-z0-9_]{{0,{MAX_ID - 1}}}$")
_IDENT_PART = re.compile(rf"^[A-Za-z0-9_]{{1,{MAX_ID}}}$")


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

    def ident(self, node: dict[str, Any], key: str, where: str, part: bool = False) -> str:
        """``node[key]`` checked by ``ident_value``."""
        return self.ident_value(self.text(node, key, where), f"{where}.{key}", part)

    def ident_value(self, value: str, where: str, part: bool = False) -> str:
        """An id that becomes part of an Excel defined name (``F_<id>``, ``L_<enum>``) and is
        written in rules and wording (``f.<id>``): ASCII letters, digits and underscores,
        starting with a letter, at most ``MAX_ID`` characters. ``part``: only ever joined
        after another id (a grid row: ``<grid>_201_<column>``), so it may start with a digit."""
        if not (_IDENT_PART if part else _IDENT).match(value):
            first = "" if part else "，以字母开头"
            raise self.fail(
                where, f"应为英文字母、数字和下划线组成的标识{first}，至多 {MAX_ID} 个字符（现为 {value[:40]!r}）"
            )
        return value

    def text(self, node: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = node.get(key, default)
        if value is None:
            raise self.fail(where, f"缺少 {key}")
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise self.fail(f"{where}.{key}", "应为文本")
        return str(value)


# What validation code raises when a value has the wrong YAML type and no check of its
# type caught it first (a mapping where a field id belongs: "unhashable type: 'dict'").
MALFORMED = (TypeError, KeyError, AttributeError, IndexError, ValueError, ArithmeticError)


@contextlib.contextmanager
def malformed_in(path: Path) -> Iterator[None]:
    """Loading a pack file: a value of the wrong YAML type that its checks missed is a
    SpecError naming the file (never a traceback); our own errors pass unchanged."""
    try:
        yield
    except XlprocError:
        raise
    except MALFORMED as exc:
        raise SpecError(
            f"{path}: 内容的写法或类型有误（{type(exc).__name__}），请对照 docs/pack-format.md 检查该文件"
        ) from exc
