"""A bureau's own edition in YAML only: copy a shipped pack, add a field, a rule and a report
sentence, and run template → fill → check → annotate → report → batch on it through the CLI
with ``--pack``. The report is read back with python-docx: the new sentence carries the value,
and when the field is left blank the report says 未填报 for it, never a number."""

from __future__ import annotations

import io
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
from typer.testing import CliRunner

from xlproc.cli.app import app
from xlproc.form.packs import load_pack, pack_by_id
from xlproc.template.fill import fill_workbook

runner = CliRunner()
SAMPLE_DATA = Path(__file__).resolve().parent.parent / "samples" / "data"


def _own_pack(tmp_path: Path) -> Path:
    folder = tmp_path / "本区2024"
    shutil.copytree(pack_by_id("zpb-2024").dir, folder)
    pack_yaml = folder / "pack.yaml"
    text = pack_yaml.read_text(encoding="utf-8")
    text = text.replace("id: zpb-2024", "id: district-2024b").replace('version: "2024.1"', 'version: "2024.2"')
    pack_yaml.write_text(text, encoding="utf-8")
    form = folder / "form.yaml"
    text = form.read_text(encoding="utf-8").replace('version: "2024.1"', 'version: "2024.2"')
    anchor = "          - {id: filler, label: 填报人, type: text}\n"
    assert anchor in text
    text = text.replace(
        anchor, "          - {id: volunteers, label: 志愿服务人次, type: count, unit: 人次, required: false}\n" + anchor
    )
    form.write_text(text, encoding="utf-8")
    rules = folder / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    anchor = "  - id: prev.identity\n"
    rule = (
        "  - id: local.volunteers\n"
        "    severity: warning\n"
        "    title: 志愿服务人次不应超过实有在编人数的 50 倍\n"
        "    assert: volunteers <= staff_actual * 50\n"
        '    message: "志愿服务 {volunteers} 人次，超过实有在编人数 {staff_actual} 人的 50 倍，请核实"\n\n'
    )
    rules.write_text(text.replace(anchor, rule + anchor), encoding="utf-8")
    wording = folder / "wording.yaml"
    text = wording.read_text(encoding="utf-8")
    anchor = "    - note: basic_note\n"
    assert text.count(anchor) == 1
    sentence = (
        '    - p: "{{ me }}全年组织干部职工参加志愿服务{{ f.volunteers }}人次。"\n'
        "      needs: [volunteers]\n"
        "      item: 志愿服务情况\n"
    )
    wording.write_text(text.replace(anchor, sentence + anchor), encoding="utf-8")
    return folder


def _report_paragraphs(path: Path) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(path.read_bytes())).paragraphs]


def test_an_edited_pack_runs_end_to_end(tmp_path):
    folder = _own_pack(tmp_path)
    listed = runner.invoke(app, ["packs", "--pack", str(folder), "--format", "json"])
    assert listed.exit_code == 0, listed.output
    mine = json.loads(listed.stdout)[0]
    assert (mine["id"], mine["version"], mine["previous"]) == ("district-2024b", "2024.2", "zpb-2023")

    # template: the new field is in the blank form
    blank = tmp_path / "空白.xlsx"
    made = runner.invoke(app, ["template", "--pack", str(folder), "-o", str(blank), "--year", "2024"])
    assert made.exit_code == 0, made.output
    names = openpyxl.load_workbook(blank).defined_names
    assert "F_volunteers" in names

    # fill: the clean 2024 sample's values plus the new field, too many volunteers
    pack = load_pack(folder)
    from xlproc.reading.workbook import read_workbook

    clean = read_workbook(next((SAMPLE_DATA.parent / "inbox" / "2024").glob("02_*.xlsx")))
    values = {k: fv.value for k, fv in clean.fields.items() if pack.spec.fields[k].is_input and fv.value is not None}
    tables = {tid: [{c: v for c, v in r.items() if c != "row"} for r in t.rows] for tid, t in clean.tables.items()}
    values["volunteers"] = Decimal(5000)
    inbox = tmp_path / "收件"
    book = fill_workbook(inbox / "司法局.xlsx", values, tables, spec=pack.spec)

    # check: found by the new rule, at the new cell; unknown edition without --pack
    without = runner.invoke(app, ["check", str(book), "--format", "json"])
    assert without.exit_code == 2 and "2024.2" in without.stderr and "--pack" in without.stderr
    checked = runner.invoke(app, ["check", str(book), "--pack", str(folder), "--format", "json"])
    report = json.loads(checked.stdout)
    found = [f for f in report["findings"] if f["rule_id"] == "local.volunteers"]
    assert len(found) == 1 and found[0]["sheet"] == "基本情况" and "5000" in found[0]["message"]
    assert [f["rule_id"] for f in report["findings"]] == ["local.volunteers"]

    # annotate: the finding is on the new cell of the department's own workbook
    annotated = tmp_path / "批注.xlsx"
    done = runner.invoke(app, ["annotate", str(book), "--pack", str(folder), "-o", str(annotated)])
    assert done.exit_code == 0, done.output
    ws = openpyxl.load_workbook(annotated)["基本情况"]
    assert ws[found[0]["cell"]].comment is not None and "志愿服务" in ws[found[0]["cell"]].comment.text

    # report: rendered with the pack's own template and wording, the new sentence filled in
    target = tmp_path / "报告.docx"
    rendered = runner.invoke(app, ["report", str(book), "--pack", str(folder), "-o", str(target)])
    assert rendered.exit_code == 0, rendered.output
    paragraphs = _report_paragraphs(target)
    assert "示例区司法局" in "\n".join(paragraphs)
    said = [p for p in paragraphs if "志愿服务" in p]
    assert said == ["本部门全年组织干部职工参加志愿服务5000人次。"], said
    staff = next(i for i, p in enumerate(paragraphs) if "在编人员" in p)
    assert paragraphs.index(said[0]) > staff  # where the wording puts it: after the staff sentence

    # the same workbook with the new field left blank: 未填报, never a number
    blank_values = {k: v for k, v in values.items() if k != "volunteers"}
    unfilled = fill_workbook(tmp_path / "未填" / "司法局.xlsx", blank_values, tables, spec=pack.spec)
    target = tmp_path / "报告_未填.docx"
    rendered = runner.invoke(app, ["report", str(unfilled), "--pack", str(folder), "-o", str(target)])
    assert rendered.exit_code == 0, rendered.output
    said = [p for p in _report_paragraphs(target) if "志愿服务" in p]
    assert said == ["志愿服务情况未填报。"], said
    assert not any(re.search(r"志愿服务\D{0,12}\d", p) for p in said)

    # batch: the edition is recorded and shown in 汇总
    outbox = tmp_path / "输出"
    ran = runner.invoke(app, ["batch", str(inbox), "-o", str(outbox), "--pack", str(folder), "--jobs", "0"])
    assert ran.exit_code == 0, ran.output
    manifest = json.loads(
        runner.invoke(
            app, ["batch", str(inbox), "-o", str(outbox), "--pack", str(folder), "--jobs", "0", "--format", "json"]
        ).stdout
    )
    [result] = manifest["results"]
    assert result["pack"] == "district-2024b" and result["form_version"] == "2024.2"
    head, *rows = openpyxl.load_workbook(outbox / "汇总.xlsx")["汇总"].iter_rows(values_only=True)
    row = dict(zip(head, next(r for r in rows if r[head.index("源文件")] == "司法局.xlsx"), strict=True))
    assert row["版本"] == "2024.2"
