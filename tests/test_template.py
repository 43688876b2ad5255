"""The blank form: sheets, protection, locked labels, unlocked validated inputs, names."""

from __future__ import annotations

import openpyxl
import pytest

from xlproc.template.build import META_SHEET, write_template


@pytest.fixture(scope="module")
def template_book(tmp_path_factory):
    path = tmp_path_factory.mktemp("tpl") / "自评表.xlsx"
    write_template(path, year=2023, department="测试局")
    return openpyxl.load_workbook(path)


def _cell(wb, name):
    dest = next(iter(wb.defined_names[name].destinations))
    return wb[dest[0]][dest[1].replace("$", "")]


def test_sheets_order_and_hidden_meta(template_book, spec):
    wb = template_book
    assert wb.sheetnames[0] == "填表说明"
    assert wb.sheetnames[1:-1] == [s.name for s in spec.sheets]
    meta = wb[META_SHEET]
    assert meta.sheet_state == "hidden"
    assert (meta["B1"].value, meta["B2"].value) == (spec.form_id, spec.version)


def test_every_sheet_protected_without_password(template_book, spec):
    for s in spec.sheets:
        ws = template_book[s.name]
        assert ws.protection.sheet, s.name
        assert not ws.protection.password
        assert ws.protection.insertRows is False  # False = "not protected" = inserting rows allowed


def test_every_field_has_a_name_and_inputs_are_unlocked_and_validated(template_book, spec):
    wb = template_book
    validations = {}
    for s in spec.sheets:
        for dv in wb[s.name].data_validations.dataValidation:
            for rng in dv.sqref.ranges:
                for row in wb[s.name].iter_rows(
                    min_row=rng.min_row, max_row=rng.max_row, min_col=rng.min_col, max_col=rng.max_col
                ):
                    for c in row:
                        validations[(s.name, c.coordinate)] = dv
    for f in spec.fields.values():
        cell = _cell(wb, f"F_{f.id}")
        sheet = spec.sheet_name(f.sheet)
        assert cell.parent.title == sheet
        if f.is_input:
            assert cell.protection.locked is False, f.id
            dv = validations[(sheet, cell.coordinate)]
            assert dv.showInputMessage and dv.prompt, f.id
            if f.type == "enum":
                assert dv.type == "list" and dv.formula1 == f"L_{f.enum}"
            if f.type == "money":
                assert dv.type == "custom" and f"ROUND({cell.coordinate},{spec.decimals(f)})" in dv.formula1
            if f.type == "count":
                assert dv.type == "whole"
        else:
            assert cell.protection.locked is not False, f.id
        # the label sits left of every fields-block input, locked
        if f.is_input and not f.id.startswith(
            (
                "score_",
                "sanbao_",
                "sangong_",
                "other_fees_",
                "budget_income_",
                "budget_exp_",
                "final_income_",
                "final_exp_",
            )
        ):
            label = cell.offset(column=-1)
            assert label.value == f.label and label.protection.locked is not False


def test_computed_fields_are_formulas(template_book, spec):
    for f in spec.fields.values():
        if f.compute:
            v = _cell(template_book, f"F_{f.id}").value
            assert isinstance(v, str) and v.startswith("="), f.id
    assert _cell(template_book, "F_sangong_total_budget").value.startswith("=SUM(")
    assert "SUMPRODUCT" in _cell(template_book, "F_monitor_lt30_count").value  # not COUNTIF: "<30%" is text


def test_tables_and_dropdown_lists_are_named(template_book, spec):
    wb = template_book
    for tid, t in spec.tables.items():
        dest = next(iter(wb.defined_names[f"T_{tid}"].destinations))
        assert dest[0] == spec.sheet_name(t.sheet)
        first, last = dest[1].replace("$", "").split(":")
        assert wb[dest[0]][first].protection.locked is False
        assert (
            int("".join(ch for ch in last if ch.isdigit())) - int("".join(ch for ch in first if ch.isdigit())) + 1
            == t.rows
        )
    for enum, values in spec.enums.items():
        dest = next(iter(wb.defined_names[f"L_{enum}"].destinations))
        assert dest[0] == META_SHEET
        cells = [c.value for row in wb[META_SHEET][dest[1].replace("$", "")] for c in row]
        assert tuple(cells) == values


def test_prefilled_year_and_department(template_book):
    assert _cell(template_book, "F_year").value == 2023
    assert _cell(template_book, "F_dept_name").value == "测试局"
    assert "2023年度" in template_book["填表说明"]["A1"].value


def test_rubric_max_written_locked(template_book, spec):
    for cat in spec.rubric.categories:
        cell = _cell(template_book, f"F_score_{cat.id}_max")
        assert str(cell.value).rstrip("0").rstrip(".") == str(cat.max).rstrip("0").rstrip(".") or cell.value == cat.max
        assert cell.protection.locked is not False
