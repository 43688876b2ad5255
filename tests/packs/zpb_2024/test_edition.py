"""The 2024 edition (workbook_templates/zpb-2024): what changed from 2023, and its samples
checked against their 2023 workbooks read with the 2023 pack and mapped through ``previous:``."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlproc.form.packs import find_pack, pack_by_id
from xlproc.pipeline import check_workbook, map_previous
from xlproc.reading.workbook import read_workbook
from xlproc.rules import load_catalogue

TESTS = Path(__file__).resolve().parents[2]
SAMPLES = TESTS.parent / "samples"
P2023, P2024 = pack_by_id("zpb-2023"), pack_by_id("zpb-2024")


def _pair(prefix: str) -> tuple[Path, Path]:
    [this] = (SAMPLES / "inbox" / "2024").glob(f"{prefix}_*.xlsx")
    [last] = (SAMPLES / "previous" / "2023").glob(f"{prefix}_*.xlsx")
    return this, last


def test_the_2024_edition_differs_from_2023_as_declared():
    old, new = P2023.spec, P2024.spec
    assert (P2024.form_id, P2024.version, P2024.year) == ("xlproc-zpb", "2024.1", 2024)
    assert P2024.previous is not None and P2024.previous.pack_id == "zpb-2023"
    fields = P2024.previous.fields
    # 公务用车 split: 实有车辆数 → 在用（运行维护） + 本年购置 (new)
    assert fields["vehicle_actual"] == "vehicle_in_use" and "vehicle_purchased" in new.fields
    assert "vehicle_actual" not in new.fields and "vehicle_purchased" not in old.fields
    # renamed, dropped
    assert fields["carryover_balance"] == "carryover_funds" and "carryover_funds" not in old.fields
    assert fields["dept_code"] is None and "dept_code" not in new.fields
    # new input and computed 部门预算执行率
    assert new.fields["annual_actual_spending"].is_input
    assert new.fields["budget_execution_rate"].compute == {"ratio_pct": ["annual_actual_spending", "budget_exp_total"]}
    # one rubric maximum changed
    changed = [
        (a.id, a.max, b.max)
        for a, b in zip(old.rubric.categories, new.rubric.categories, strict=True)
        if a.max != b.max
    ]
    assert [c[0] for c in changed] == ["performance"]
    # new rules
    rules_2023 = {i.id for i in load_catalogue(P2023.rules_path, spec=old).infos}
    rules_2024 = {i.id for i in load_catalogue(P2024.rules_path, spec=new).infos}
    assert rules_2024 - rules_2023 == {"basic.vehicle_purchase", "execution.rate", "prev.carryover"}


def test_the_2023_workbook_is_read_with_its_own_pack_and_mapped():
    _this, last = _pair("02")
    prev = read_workbook(last)
    assert prev.spec is P2023.spec and prev.value("carryover_balance") is not None
    mapped = map_previous(prev, P2023, P2024)
    assert mapped is not None and mapped.spec is P2024.spec
    assert mapped.value("carryover_funds") == prev.value("carryover_balance")
    assert mapped.value("vehicle_in_use") == prev.value("vehicle_actual")
    assert "dept_code" not in mapped.fields and "vehicle_actual" not in mapped.fields
    assert mapped.fields["carryover_funds"].cell == prev.fields["carryover_balance"].cell  # still points at its cell


def test_clean_2024_sample_passes_every_check_including_cross_year():
    this, last = _pair("02")
    outcome = check_workbook(this.read_bytes(), previous=last, source=this.name)
    assert outcome.pack is P2024 and outcome.previous is not None and outcome.previous.pack is P2023
    assert [f.rule_id for f in outcome.report.findings] == []
    assert {"prev.sangong", "prev.carryover", "prev.copied"} <= set(outcome.report.rules_run)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        (
            "03",
            {
                ("basic.vehicle_purchase", "B18"),
                ("execution.rate", "B4"),
                ("prev.sangong", "B8"),
                ("claim.strict_control_with_rise", "B14"),
            },
        ),  # 压减 beside a rise (a car bought)
        ("06", {("prev.copied", "B5"), ("prev.final_copied", "B7"), ("prev.final_vs_budget", "B7")}),
    ],
)
def test_2024_samples_mistakes_are_found_at_their_cells(prefix, expected):
    this, last = _pair(prefix)
    outcome = check_workbook(this.read_bytes(), previous=last, source=this.name)
    assert {(f.rule_id, f.cell) for f in outcome.report.findings} == expected
    without = check_workbook(this.read_bytes(), source=this.name)
    assert not any(f.rule_id.startswith("prev.") for f in without.report.findings)


def test_previous_of_an_unrelated_edition_is_a_note_not_a_wrong_check(tmp_path):
    from xlproc.form.packs import load_pack
    from xlproc.template.fill import fill_workbook

    tiny = load_pack(TESTS / "packs" / "tiny")
    other = fill_workbook(tmp_path / "tiny.xlsx", {"unit_name": "示例区司法局", "fy": 2023}, spec=tiny.spec)
    this, _last = _pair("02")
    outcome = check_workbook(this.read_bytes(), previous=other, packs=[tiny], source=this.name)
    assert outcome.previous is None
    assert "tiny-form 1.0" in outcome.notes[0] and "未做跨年度核对" in outcome.notes[0]
    assert find_pack("tiny-form", "1.0", [tiny]) is tiny


def test_checks_across_departments_run_on_the_2024_round_against_2023(tmp_path):
    # The 2024 pack carries the district checks too (it was made before they existed and
    # had none: a 2024 round got no cross-department findings at all).
    from script_modules import load_script

    import xlproc
    from xlproc.dataset.across import load_rules
    from xlproc.template.fill import fill_workbook

    ids = {p.id: [r.id for r in load_rules(p.rules_path, p.spec)] for p in (P2023, P2024)}
    assert ids["zpb-2024"] == ids["zpb-2023"] and ids["zpb-2024"], ids
    # last year's 统计局 budgeted a third of this year's income, and this year gives no 说明
    previous = tmp_path / "previous"
    previous.mkdir()
    for s in load_script("make_samples").load_samples():
        if s.folder == "previous/2023":
            values = dict(s.values)
            if values["dept_name"] == "示例区统计局":
                for k in [k for k in values if k.startswith("budget_income_")]:
                    values[k] = None if values[k] is None else (values[k] / 3).quantize(values[k])
            fill_workbook(previous / s.filename, values, s.tables, spec=s.pack.spec)
    ds = xlproc.dataset(SAMPLES / "inbox" / "2024", previous)
    found = [(f["department"], f["rule_id"]) for f in ds.across]
    assert found == [("示例区统计局", "across.income_change")], ds.across
