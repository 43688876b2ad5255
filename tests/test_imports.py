"""Import directions: the library never imports the CLI or web layers (nor typer/rich), and
each stage imports only the stages below it (docs/architecture.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "xlproc"

# Stage of each top-level module or subpackage of xlproc; a module may import its own stage
# and lower ones. The front ends (cli, web) sit on top and import anything.
STAGES = {
    "": 0,  # xlproc/__init__.py (version, lazy public API)
    "errors": 0,
    "results": 0,
    "io": 0,
    "ooxml": 0,
    "form": 1,
    "submission": 2,
    "template": 2,
    "reading": 3,
    "rules": 4,
    "annotate": 5,
    "report": 5,
    "dataset": 6,  # frames and records built from typed submissions and reports
    "pipeline": 7,  # the per-file check step, artifact writers and the batch's per-file task
    "dataset.api": 8,  # xlproc.dataset(paths): a verb over files that runs the pipeline, like batch
    "batch": 8,  # folders, workers, 汇总 (built on the dataset frames)
    "cli": 9,
    "web": 9,
    "__main__": 10,
}
FRONT_ENDS = {"cli", "web", "__main__"}
FORBIDDEN_IN_LIBRARY = ("typer", "rich", "click", "fastapi", "starlette", "flask", "uvicorn")


def _imports(path: Path) -> list[tuple[str, int]]:
    """(absolute module name, line) of every import in ``path``, relative ones resolved."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(rel.parts[:-1])
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {  # imports under `if TYPE_CHECKING:` are for annotations, never executed
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for n in ast.walk(block)
    }
    out = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((name, node.lineno))
            for a in node.names:  # from package import module
                sub = PACKAGE.parent.joinpath(*f"{name}.{a.name}".split("."))
                if sub.with_suffix(".py").exists() or (sub / "__init__.py").exists():
                    out.append((f"{name}.{a.name}", node.lineno))
    return out


def _stage(module: str) -> str:
    """The STAGES key of ``module``: its own sub-module entry if it has one, else its subpackage."""
    parts = module.split(".")
    if len(parts) > 2 and ".".join(parts[1:3]) in STAGES:
        return ".".join(parts[1:3])
    return parts[1] if len(parts) > 1 else ""


def _library_files() -> list[Path]:
    return [
        p
        for p in sorted(PACKAGE.rglob("*.py"))
        if _stage(".".join(p.relative_to(PACKAGE.parent).parts)) not in FRONT_ENDS
    ]


def test_every_stage_is_known():
    found = {p.name.removesuffix(".py") for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    found.discard("__init__")
    assert found <= set(STAGES), f"add {sorted(found - set(STAGES))} to STAGES (and docs/architecture.md)"


def test_library_never_imports_front_ends_or_terminal_libraries():
    bad = []
    for path in _library_files():
        for name, line in _imports(path):
            top = name.split(".")[0]
            if top in FORBIDDEN_IN_LIBRARY or (top == "xlproc" and _stage(name) in FRONT_ENDS):
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    assert not bad, "\n".join(bad)


def test_stages_import_only_downward():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        me = _stage(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
        if me in FRONT_ENDS:
            continue
        for name, line in _imports(path):
            if not name.startswith("xlproc"):
                continue
            other = _stage(name)
            same_package = other.split(".")[0] == me.split(".")[0]
            if not same_package and STAGES.get(other, 99) > STAGES[me]:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({me}) imports {name} ({other})")
    assert not bad, "\n".join(bad)


def test_importing_the_library_loads_no_terminal_or_heavy_module():
    code = (
        "import sys, xlproc, xlproc.pipeline, xlproc.batch;"
        "print(','.join(m for m in ('typer','rich','click','pandas','matplotlib','docxtpl') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", out.stdout


def test_workers_reimporting_the_console_script_load_no_terminal_module(tmp_path: Path):
    # A batch's worker processes run the parent's main script again as __mp_main__
    # (multiprocessing's fork-server / spawn start-up). For the ``xlproc`` console script
    # that is the entry point's import, which must not pull in typer, rich and the commands.
    script = tmp_path / "xlproc"
    script.write_text(
        "import sys\nfrom xlproc.cli import main\nif __name__ == '__main__':\n    sys.exit(main())\n", encoding="utf-8"
    )
    code = (
        f"import runpy, sys; runpy.run_path({str(script)!r}, run_name='__mp_main__');"
        "print(','.join(m for m in ('typer','rich','click','xlproc.cli.app') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", out.stdout
