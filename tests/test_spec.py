"""The form spec and rubric load, and malformed files are refused with file and YAML path."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from xlproc.form.spec import SpecError, load_rubric, load_spec, templates_dir

FORM = templates_dir() / "form.yaml"
RUBRIC = templates_dir() / "rubric.yaml"


def test_spec_has_every_section_of_form_md(spec):
    names = [s.name for s in spec.sheets]
    assert names == [
        "基本情况",
        "绩效目标",
        "考核得分",
        "重大政策落实",
        "三公经费",
        "收支预算",
        "决算",
        "财务报告",
        "政府采购",
        "预算执行",
        "项目台账",
        "资产管理",
        "债务透明度信息化",
        "问题与改进",
    ]
    assert spec.form_id == "xlproc-zpb" and spec.version
    assert set(spec.tables) == {"goals", "achievements", "nontax", "projects", "key_tasks"}


def test_field_types_units_and_decimals(spec):
    f = spec.fields["budget_income_total"]
    assert (f.type, f.unit, spec.decimals(f), f.required) == ("money", "万元", 2, True)
    assert spec.decimals(spec.tables["nontax"].column("actual")) == 4
    assert spec.fields["final_exp_221_share"].unit == "%"
    assert spec.fields["org_level"].enum == "org_level" and "正科级" in spec.enums["org_level"]
    assert spec.fields["sangong_total_budget"].compute == {
        "sum": [
            "sangong_abroad_budget",
            "sangong_car_purchase_budget",
            "sangong_car_operation_budget",
            "sangong_reception_budget",
        ]
    }
    # 会议费 and 培训费 are not 三公: they have their own grid outside the 三公 total.
    assert "other_fees_meeting_budget" in spec.fields
    assert all("other_fees" not in p for p in spec.fields["sangong_total_actual"].compute["sum"])


def test_rubric_drives_score_rows(spec):
    assert [c.name for c in spec.rubric.categories] == [
        "重大政策落实",
        "预算编制管理",
        "预算执行管理",
        "预算绩效管理",
        "资产管理",
        "债务管理",
        "预算透明度",
        "预算信息化",
        "参与财政改革创新",
        "存在问题",
    ]
    assert spec.rubric.categories[0].max == Decimal("4.5")
    assert spec.fields["score_policy_max"].fixed


def _write(tmp_path: Path, form: dict, rubric: dict | None = None) -> Path:
    (tmp_path / "rubric.yaml").write_text(
        yaml.safe_dump(rubric or yaml.safe_load(RUBRIC.read_text(encoding="utf-8")), allow_unicode=True),
        encoding="utf-8",
    )
    path = tmp_path / "form.yaml"
    path.write_text(yaml.safe_dump(form, allow_unicode=True), encoding="utf-8")
    return path


def _form() -> dict:
    return yaml.safe_load(FORM.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("mutate", "where", "reason"),
    [
        (
            lambda d: d["sheets"][0]["blocks"][0]["fields"][2].update(type="moneyy"),
            "sheets[0].blocks[0].fields[2].type",
            "未知类型",
        ),
        (
            lambda d: d["sheets"][0]["blocks"][0]["fields"][3].update(enum="nope"),
            "sheets[0].blocks[0].fields[3].enum",
            "未定义的枚举",
        ),
        (
            lambda d: d["sheets"][0]["blocks"][0]["fields"][1].update(id="dept_name"),
            "sheets[0].blocks[0].fields[1]",
            "字段 id 重复",
        ),
        (lambda d: d["sheets"][1]["blocks"][0].update(kind="tabel"), "sheets[1].blocks[0].kind", "未知块类型"),
        (
            lambda d: d["sheets"][0]["blocks"][0]["fields"][0].pop("label"),
            "sheets[0].blocks[0].fields[0]",
            "缺少 label",
        ),
        (lambda d: d.pop("form"), "form", "应为键值映射"),
    ],
)
def test_malformed_spec_names_file_and_yaml_path(tmp_path, mutate, where, reason):
    data = _form()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(SpecError) as exc:
        load_spec(path)
    msg = str(exc.value)
    assert str(path) in msg and where in msg and reason in msg


def test_unknown_compute_reference_is_refused(tmp_path):
    data = _form()
    text = yaml.safe_dump(data, allow_unicode=True).replace("projects.pre_eval", "projects.pre_evaluation")
    path = tmp_path / "form.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "rubric.yaml").write_text(RUBRIC.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(SpecError, match="表格 projects 没有列 'pre_evaluation'"):
        load_spec(path)


def test_yaml_syntax_error_has_line(tmp_path):
    path = tmp_path / "form.yaml"
    path.write_text("form: {id: x\nsheets: [", encoding="utf-8")
    (tmp_path / "rubric.yaml").write_text(RUBRIC.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(SpecError, match=r"YAML 语法错误 第\d+行"):
        load_spec(path)


@pytest.mark.parametrize(
    ("patch", "reason"),
    [({"max": "abc"}, "满分应为数字"), ({"kind": "extra"}, "应为 score / bonus / deduction"), ({"max": -1}, "非负")],
)
def test_malformed_rubric(tmp_path, patch, reason):
    data = yaml.safe_load(RUBRIC.read_text(encoding="utf-8"))
    data["rubric"]["categories"][2].update(patch)
    path = tmp_path / "rubric.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SpecError) as exc:
        load_rubric(path)
    assert "rubric.categories[2]" in str(exc.value) and reason in str(exc.value)
