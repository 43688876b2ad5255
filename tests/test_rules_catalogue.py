"""The catalogue as data: validation before any workbook is read, rules added without code."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_rules_support import clean_base, read_sample, variant

from xlproc.form.spec import SpecError
from xlproc.rules import CatalogueError, check_previous, load_catalogue, rule_table, run_checks
from xlproc.rules.catalogue import default_rules_path

GOOD_RULE = """\
  - id: custom.staff_ratio
    severity: warning
    title: 实有在编人数不足编制数的一半
    assert: staff_actual * 2 >= staff_quota
    message: "实有在编人数 {staff_actual} 人，不足编制数 {staff_quota} 个的一半"
"""


def _catalogue(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n" + textwrap.dedent(body), encoding="utf-8")
    return path


def test_a_rule_added_only_in_a_file_is_evaluated(tmp_path):
    cat = load_catalogue(_catalogue(tmp_path, GOOD_RULE))
    base = clean_base()
    assert run_checks(base, cat).flatten() == []
    sub = variant(base, {"staff_actual": "15"})  # quota 32
    report = run_checks(sub, cat)
    assert report.flatten() == [("custom.staff_ratio", sub.fields["staff_actual"].cell)]
    assert report.findings[0].message == "实有在编人数 15 人，不足编制数 32 个的一半"
    assert report.rules_run == ["custom.staff_ratio"]


def test_table_functions_and_each_in_a_custom_rule(tmp_path):
    body = """\
      - id: custom.projects_amount
        severity: info
        title: 项目金额合计不应超过支出预算合计
        assert: sum(projects.amount) <= budget_exp_total and countif(projects.yearend, "是") <= count(projects)
        message: "项目金额合计超过支出预算合计"
      - id: custom.sanbao_nonzero
        severity: info
        title: 三保各项应有安排
        each: grid:sanbao
        assert: sanbao_{row}_plan > 0
        message: "{row_label}安排资金为 {sanbao_{row}_plan}万元"
    """
    cat = load_catalogue(_catalogue(tmp_path, body))
    base = clean_base()
    assert run_checks(base, cat).flatten() == []
    sub = variant(
        base, {"budget_exp_204": "10.00", "sanbao_livelihood_plan": "0"}, {"projects": {0: {"amount": "999"}}}
    )
    report = run_checks(sub, cat)
    assert sorted(f.rule_id for f in report.findings) == ["custom.projects_amount", "custom.sanbao_nonzero"]
    assert "保基本民生安排资金为 0.00万元" in [f.message for f in report.findings]


@pytest.mark.parametrize(
    ("body", "rule_id", "reason"),
    [
        (
            "  - id: a.b\n    severity: error\n    title: t\n    assert: staff_actual <=\n    message: m\n",
            "a.b",
            "语法错误",
        ),
        (
            "  - id: a.b\n    severity: error\n    title: t\n    assert: staff_actul <= 1\n    message: m\n",
            "a.b",
            "未知字段 'staff_actul'",
        ),
        ("  - id: a.b\n    severity: error\n    title: t\n    type: magic\n", "a.b", "未知规则类型 'magic'"),
        (
            "  - id: a.b\n    severity: fatal\n    title: t\n    assert: staff_actual > 0\n    message: m\n",
            "a.b",
            "severity",
        ),
        (
            "  - id: a.b\n    severity: error\n    title: t\n    assert: __import__('os')\n    message: m\n",
            "a.b",
            "未知函数",
        ),
        (
            "  - id: a.b\n    severity: error\n    title: t\n    assert: staff_actual.real > 0\n    message: m\n",
            "a.b",
            "staff_actual.real",
        ),
        (
            "  - id: a.b\n    severity: error\n    title: t\n    assert: staff_actual > 0\n    message: '{nope}'\n",
            "a.b",
            "{nope}",
        ),
        (
            "  - id: a.b\n    severity: error\n    title: t\n    assert: dept_name + 1 > 0\n    message: m\n",
            "a.b",
            "不是数值",
        ),
        (
            "  - id: a.b\n    severity: error\n    title: t\n    assert: sum(projects.nope) > 0\n    message: m\n",
            "a.b",
            "没有列",
        ),
        (
            "  - id: a.b\n    severity: error\n    title: t\n    assert: x > 0\n    message: m\n    colour: red\n",
            "a.b",
            "未知参数 colour",
        ),
        (
            "  - id: a.b\n    severity: error\n    title: t\n    type: unit_slip\n    base: dept_name\n    factor: 5\n    message: m\n",
            "a.b",
            "base",
        ),
        ("  - id: A B\n    severity: error\n    title: t\n", "A B", "id"),
        (GOOD_RULE + GOOD_RULE, "custom.staff_ratio", "id 重复"),
    ],
)
def test_malformed_catalogue_is_refused_with_file_rule_and_reason(tmp_path, body, rule_id, reason):
    path = _catalogue(tmp_path, body)
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(path)
    assert exc.value.rule_id == rule_id
    assert reason in exc.value.reason
    assert str(path) in str(exc.value) and rule_id in str(exc.value)
    assert isinstance(exc.value, SpecError)


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - id: a\n    title: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(path)
    assert "YAML 语法错误" in str(exc.value) and str(path) in str(exc.value)


def test_sangong_rule_refuses_a_form_summing_other_fees_into_sangong(tmp_path, spec):
    import dataclasses

    fields = dict(spec.fields)
    total = fields["sangong_total_budget"]
    leaked = {"sum": [*total.compute["sum"], "other_fees_meeting_budget"]}
    fields["sangong_total_budget"] = dataclasses.replace(total, compute=leaked)
    bad_spec = dataclasses.replace(spec, fields=fields)
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(spec=bad_spec)
    assert exc.value.rule_id == "sangong.category" and "会议费" in exc.value.reason


def test_rule_table_lists_every_entry_once():
    cat = load_catalogue(default_rules_path())
    table = rule_table(cat)
    assert [r["id"] for r in table] == [i.id for i in cat.infos]
    assert len({r["id"] for r in table}) == len(table)
    assert all(r["severity"] in ("error", "warning", "info") and r["meaning"] for r in table)


def test_check_previous_compares_sangong_with_last_years_workbook():
    sub = read_sample("柳林镇")
    prev = read_sample("柳林镇", "previous")
    findings = check_previous(sub, prev)
    assert [(f.rule_id, f.cell) for f in findings] == [
        ("prev.sangong", sub.fields["sangong_reception_prev_actual"].cell)
    ]
    f = findings[0]
    assert f.expected == "4.02" and f.actual == "4.20"
    assert f.message == "公务接待费上年实际数填写为 4.20万元，上年自评表中的本年实际数为 4.02万元，相差 0.18万元"


def test_previous_workbook_of_another_department_only_says_so():
    sub = read_sample("柳林镇")
    other = read_sample("司法局", "previous")
    findings = check_previous(sub, other)
    assert [(f.rule_id, f.severity) for f in findings] == [("prev.identity", "info")]


def test_a_catalogue_of_another_edition_is_refused_in_chinese():
    from xlproc.errors import XlprocError
    from xlproc.form.packs import find_pack
    from xlproc.reading.workbook import read_workbook

    root = Path(__file__).resolve().parent.parent / "samples" / "inbox"
    sub23 = read_workbook(root / "02_示例区司法局.xlsx")
    sub24 = read_workbook(root / "2024" / "02_示例区司法局.xlsx")
    cat24 = load_catalogue(spec=find_pack(sub24.form_id, sub24.form_version).spec)
    assert run_checks(sub24, cat24).rules_run == cat24.rule_ids  # its own edition runs
    for run in (lambda: run_checks(sub23, cat24), lambda: check_previous(sub23, sub23, cat24)):
        with pytest.raises(XlprocError) as err:
            run()
        assert "2024.1" in str(err.value) and "2023.1" in str(err.value) and "司法局" in str(err.value)
