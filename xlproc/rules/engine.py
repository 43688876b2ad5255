"""Run a compiled catalogue over one submission: the findings report of one workbook.

``run_checks`` never raises on workbook content — blanks, text, zero denominators
become findings or skipped rules. The catalogue is compiled once (``load_catalogue``)
and reused for every workbook; ``default_catalogue`` caches the packaged one per spec.
"""

from __future__ import annotations

from ..errors import XlprocError
from ..form.feeds import feeding_cells
from ..form.memo import memo
from ..form.spec import FormSpec
from ..results import CellRef, CheckReport, ComputedCell, Finding
from ..submission import FORMULA_KEPT, Submission
from .catalogue import Catalogue, load_catalogue
from .context import Context
from .culprit import locate_culprits


def default_catalogue(spec: FormSpec) -> Catalogue:
    """The packaged catalogue compiled for ``spec``, once per spec."""
    return memo(spec, "default_catalogue", lambda: load_catalogue(spec=spec))


def _same_edition(sub: Submission, catalogue: Catalogue) -> None:
    """A catalogue compiled for another edition names fields this workbook does not have:
    "cannot run", said in Chinese (not a KeyError from the first rule that looks)."""
    spec = catalogue.spec
    if spec is not sub.spec and (spec.form_id, spec.version) != (sub.spec.form_id, sub.spec.version):
        raise XlprocError(
            f"规则目录 {catalogue.path} 是按 {spec.form_id} {spec.version} 版表单编译的，"
            f"而工作簿 {sub.source} 是 {sub.spec.form_id} {sub.spec.version} 版：请使用该版本表单包的规则"
        )


def run_checks(sub: Submission, catalogue: Catalogue | None = None, previous: Submission | None = None) -> CheckReport:
    """Check one submission; with ``previous`` (last year's workbook) the cross-year rules run too."""
    catalogue = catalogue or default_catalogue(sub.spec)
    _same_edition(sub, catalogue)
    ctx = Context(sub, catalogue.spec)
    findings: list[Finding] = []
    for rule in catalogue.rules:
        rule.run(ctx, findings)
    if ctx.failed:
        locate_culprits(ctx, catalogue, findings)
    rules_run = catalogue.rule_ids
    if previous is not None:
        findings += _run_previous(ctx, previous, catalogue)
        rules_run = rules_run + catalogue.previous_rule_ids
    return CheckReport(
        source=str(sub.source),
        form_id=sub.form_id,
        form_version=sub.form_version,
        department=sub.department,
        findings=findings,
        rules_run=rules_run,
        sheet_order=tuple(s.name for s in catalogue.spec.sheets),
        computed=computed_cells(sub, findings),
    )


def computed_cells(sub: Submission, findings: list[Finding]) -> dict[str, ComputedCell]:
    """The computed cells findings point at, each with the input cells the clerk can change."""
    # only cells still holding their formula: a typed-over total is fixed in the cell itself
    by_cell = {
        (fv.sheet, fv.cell): fv for fv in sub.fields.values() if fv.computed and fv.formula in ("", FORMULA_KEPT)
    }
    out: dict[str, ComputedCell] = {}
    for f in findings:
        fv = by_cell.get((f.sheet, f.cell))
        key = str(CellRef(f.sheet, f.cell))
        if fv is None or key in out:
            continue
        inputs = feeding_cells(sub, fv.id)
        if inputs:
            out[key] = ComputedCell(fv.label, inputs)
    return out


def check_previous(sub: Submission, previous: Submission, catalogue: Catalogue | None = None) -> list[Finding]:
    """The cross-year rules only: this year's workbook against last year's.

    What is compared (see rules.yaml, ``prev.*``): each 三公 row's 上年实际数 against last
    year's 本年实际数 (the same figure, reported twice); last year's workbook holds no
    final accounts of the year this year's 决算 sheet covers (its own 决算 sheet is one
    year older), so for 决算 we compare this year's 决算收入 with last year's 收支预算
    收入合计 for the same year (a large gap asks for an explanation), and flag a 决算
    sheet identical to last year's (figures carried over instead of updated). A gate
    rule (same department, consecutive years) stops the others when it fires.
    """
    catalogue = catalogue or default_catalogue(sub.spec)
    _same_edition(sub, catalogue)
    return _run_previous(Context(sub, catalogue.spec), previous, catalogue)


def _run_previous(ctx: Context, previous: Submission, catalogue: Catalogue) -> list[Finding]:
    ctx.prev = Context(previous, catalogue.spec)
    out: list[Finding] = []
    for rule in catalogue.previous_rules:
        if rule.info.gate:
            rule.run(ctx, out)
    if out:
        return out
    for rule in catalogue.previous_rules:
        if not rule.info.gate:
            rule.run(ctx, out)
    return out
