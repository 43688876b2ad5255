"""The typer app every command registers on, its consoles and shared helpers.

Each command lives in its own module under ``commands/`` and registers itself with
``@app.command()`` on the ``app`` defined here; ``app.py`` imports them in the order
the help screen lists them. Commands get, without asking: ``-h`` / ``--help``,
``--version``, Chinese help screens and Chinese usage errors (``i18n``), usage line 用法：.

Exit codes: 0 clean, 1 findings of severity ``error`` (or failed files in a batch),
2 could not run (bad input, bad spec, usage error).
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Annotated, Any

import typer
import typer.core
import typer.main
import typer.rich_utils
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from typer.core import TyperCommand, TyperGroup

from .. import __version__
from ..errors import XlprocError
from .i18n import translate

# Help screens in Chinese (typer's panel titles are module constants).
typer.rich_utils.ARGUMENTS_PANEL_TITLE = "参数"
typer.rich_utils.OPTIONS_PANEL_TITLE = "选项"
typer.rich_utils.COMMANDS_PANEL_TITLE = "命令"
typer.rich_utils.REQUIRED_LONG_STRING = "[必填]"
typer.rich_utils.DEFAULT_STRING = "[默认：{}]"
typer.rich_utils.ERRORS_PANEL_TITLE = "命令用法有误"
typer.rich_utils.ABORTED_TEXT = "已中断。"
typer.rich_utils.RICH_HELP = "运行 [blue]'{command_path} {help_option}'[/] 查看用法。"

HELP_OPTIONS = ["-h", "--help"]
VERSION_TEXT = f"xlproc {__version__}"
USAGE_PREFIX = "用法："

# typer shows each parameter's Python type (<path>, <str>, <bool> …): in Chinese, flags without.
_TYPE_WORDS = {"<path>": "<路径>", "<str>": "<文本>", "<int>": "<整数>", "<float>": "<数字>", "<bool>": ""}


def _chinese_type(display: Any) -> Any:
    @functools.wraps(display)
    def wrapper(self: Any, ctx: Any) -> Any:
        text = display(self, ctx)
        if isinstance(text, str):
            text = text.replace("list[Path]", "path").replace("list[str]", "str")
            return _TYPE_WORDS.get(text, text)
        return text

    return wrapper


for _cls in (typer.core.TyperArgument, typer.core.TyperOption):
    if hasattr(_cls, "display_type"):
        _cls.display_type = _chinese_type(_cls.display_type)  # type: ignore[method-assign]


def _format_error(exc: Any) -> None:
    """typer's usage-error panel, in Chinese (typer calls it through this module attribute)."""
    if type(exc).__name__ == "NoArgsIsHelpError":
        return
    console = typer.rich_utils._get_rich_console(stderr=True)
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        console.print(escape(ctx.get_usage()), style=typer.rich_utils.STYLE_USAGE_COMMAND)
        if ctx.command.get_help_option(ctx) is not None:
            console.print(
                typer.rich_utils.RICH_HELP.format(
                    command_path=escape(ctx.command_path), help_option=ctx.help_option_names[0]
                ),
                style=typer.rich_utils.STYLE_ERRORS_SUGGESTION,
            )
    console.print(
        Panel(
            escape(translate(exc.format_message())),
            border_style=typer.rich_utils.STYLE_ERRORS_PANEL_BORDER,
            title=typer.rich_utils.ERRORS_PANEL_TITLE,
            title_align=typer.rich_utils.ALIGN_ERRORS_PANEL,
        )
    )


typer.rich_utils.rich_format_error = _format_error


def _show_version(value: bool) -> None:
    if value:
        typer.echo(VERSION_TEXT)
        raise typer.Exit(0)


def _make_version_option() -> Any:
    """A ``--version`` option built through typer's public API, reusable on any command."""
    probe = typer.Typer(add_completion=False)

    @probe.command()
    def _probe(
        version: Annotated[
            bool, typer.Option("--version", is_eager=True, callback=_show_version, help="显示版本号并退出。")
        ] = False,
    ) -> None:  # pragma: no cover - never invoked
        pass

    option = next(p for p in typer.main.get_command(probe).params if "--version" in p.opts)
    option.expose_value = False  # the command functions do not take it
    return option


VERSION_OPTION = _make_version_option()


class _ChineseCommand:
    """Mixin: Chinese help option text, ``--version`` on every command, Chinese metavars."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        if getattr(self, "options_metavar", None) == "[OPTIONS]":
            self.options_metavar = "[选项]"
        if getattr(self, "subcommand_metavar", None) == "COMMAND [ARGS]...":
            self.subcommand_metavar = "命令 [参数]..."

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = "显示本帮助并退出。"
        return option

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        if any("--version" in getattr(p, "opts", ()) for p in params):
            return params
        help_option = self.get_help_option(ctx)  # type: ignore[attr-defined]
        if params and params[-1] is help_option:
            return [*params[:-1], VERSION_OPTION, help_option]
        return [*params, VERSION_OPTION]

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_PREFIX)


class Group(_ChineseCommand, TyperGroup):
    pass


class Command(_ChineseCommand, TyperCommand):
    pass


class App(typer.Typer):
    """A Typer whose commands default to our Chinese command class."""

    def command(self, *args: Any, cls: Any = None, **kwargs: Any) -> Any:
        return super().command(*args, cls=cls or Command, **kwargs)


app = App(
    cls=Group,
    help="部门整体绩效管理自评表：生成填报模板、读取、审核、批注、生成报告、批量处理。",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": HELP_OPTIONS},
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fails_cleanly(fn):
    """Turn "could not run" exceptions into a Chinese message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except XlprocError as exc:
            err.print(f"[bold red]错误：[/]{escape(str(exc))}", markup=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("已中断。")
            raise typer.Exit(130) from None

    return wrapper


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def check_format(value: str) -> str:
    """The --format option's value, refused in Chinese unless table or json."""
    if value not in ("json", "table"):
        raise XlprocError(f"--format 只能是 json 或 table，收到：{value}")
    return value
