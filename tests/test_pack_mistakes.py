"""A bureau edits its pack's YAML without a programmer: whatever it types, building the
pipeline and checking a workbook end in a Chinese error naming the file (and, where the
checks know it, the rule or YAML path), never a traceback or 处理时发生意外错误.

The explicit cases are the values of the wrong YAML type that once escaped as TypeError
or KeyError (found by mutating the shipped packs, 2026-12-02); the seeded part mutates a
copy of each shipped pack the same way and runs a sample through it.
"""

from __future__ import annotations

import copy
import io
import random
import re
import shutil
import warnings
import zipfile
from pathlib import Path

import pytest
import yaml

from xlproc.errors import XlprocError
from xlproc.form.packs import load_pack, packs_root
from xlproc.pipeline import Pipeline, PipelineOptions, process_file
from xlproc.reading.workbook import read_workbook
from xlproc.template.build import write_template

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = {
    "zpb-2023": ROOT / "samples/inbox/02_示例区司法局.xlsx",
    "zpb-2024": ROOT / "samples/inbox/2024/02_示例区司法局.xlsx",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _copy(tmp_path: Path, pack_id: str) -> Path:
    target = tmp_path / pack_id
    shutil.copytree(packs_root() / pack_id, target)
    return target


def _edit(folder: Path, name: str, change) -> None:
    path = folder / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _outcome(folder: Path, sample: Path) -> str:
    """'' when the pack builds and the sample is processed; else the error a user sees."""
    try:
        pipeline = Pipeline.build(PipelineOptions(packs=(folder,)))
        result = process_file(sample, folder.parent / "out", pipeline)
    except XlprocError as exc:
        return str(exc)
    return "" if result.ok else result.error or "?"


def _rule(data: dict, rule_id: str) -> dict:
    return next(r for r in data["rules"] if r.get("id") == rule_id)


def _first_count_if(data: dict) -> None:
    for sheet in data["sheets"]:
        for block in sheet["blocks"]:
            for f in block.get("fields") or []:
                if isinstance(f.get("compute"), dict) and "count_if" in f["compute"]:
                    del f["compute"]["equals"]
                    return
    raise AssertionError("the form has a count_if field")


CASES = [
    # (pack, file, change, words the message must hold)
    (
        "zpb-2024",
        "pack.yaml",
        lambda d: d["previous"]["fields"].update({next(iter(d["previous"]["fields"])): {"x": 1}}),
        "pack.yaml",
    ),
    ("zpb-2024", "pack.yaml", lambda d: d["summary"][0].update(field={"x": 1}), "summary[0].field"),
    ("zpb-2024", "rules.yaml", lambda d: d["rules"][0].update(type={"x": 1}), "未知规则类型"),
    ("zpb-2023", "rules.yaml", lambda d: _rule(d, "budget.unit_slip").update(fields={"x": 1}), "budget.unit_slip"),
    ("zpb-2023", "rules.yaml", lambda d: d["across"][0].update(when="x"), "跨部门规则"),
    ("zpb-2024", "form.yaml", _first_count_if, "缺少 equals"),
]


def _first_field(data: dict) -> dict:
    return data["sheets"][0]["blocks"][0]["fields"][0]


ID_CASES = [
    # ids that become Excel defined names (F_<id>, L_<enum>) and are written as f.<id>
    ("form.yaml", lambda d: _first_field(d).update(id="收入/支出"), "sheets[0].blocks[0].fields[0].id"),
    ("form.yaml", lambda d: _first_field(d).update(id="x" * 60), "至多 48 个字符"),
    ("form.yaml", lambda d: _first_field(d).update(id="1st"), "以字母开头"),
    ("form.yaml", lambda d: d["enums"].update({"级别=1": ["甲", "乙"]}), "enums."),
    ("rubric.yaml", lambda d: d["rubric"]["categories"][0].update(id="决策"), "rubric.categories[0].id"),
]
SHEET_CASES = [
    (lambda d: d["sheets"][1].update(name="收入/支出"), "不可用"),
    (
        lambda d: d["sheets"][1].update(name="预算执行情况与绩效目标完成情况汇总表（含上年对比及本年调整情况说明）"),
        "不可用",
    ),
    (lambda d: d["sheets"][1].update(name="_form"), "留给系统"),
    (lambda d: d["sheets"][1].update(name=d["sheets"][0]["name"]), "重复"),
    (lambda d: d["sheets"][1].update(name="history"), "保留"),
]


@pytest.mark.parametrize(("change", "words"), SHEET_CASES)
def test_a_sheet_name_excel_refuses_is_refused_when_the_pack_loads(tmp_path, change, words) -> None:
    folder = _copy(tmp_path, "zpb-2023")
    _edit(folder, "form.yaml", change)
    with pytest.raises(XlprocError) as caught:
        load_pack(folder)
    said = str(caught.value)
    assert "form.yaml" in said and "sheets[1].name" in said and words in said, said


@pytest.mark.parametrize(("name", "change", "words"), ID_CASES)
def test_an_id_excel_cannot_name_is_refused_before_any_template_is_written(tmp_path, name, change, words) -> None:
    """xlsxwriter only warns and leaves such a defined name out: the template would be written,
    and every workbook filled from it refused as 定义名称缺失."""
    folder = _copy(tmp_path, "zpb-2023")
    _edit(folder, name, change)
    with pytest.raises(XlprocError) as caught:
        load_pack(folder)
    said = str(caught.value)
    assert name in said and words in said and "标识" in said, said


@pytest.mark.parametrize(("pack", "name", "change", "words"), CASES)
def test_a_value_of_the_wrong_type_is_a_chinese_error_naming_the_file(tmp_path, pack, name, change, words) -> None:
    folder = _copy(tmp_path, pack)
    _edit(folder, name, change)
    said = _outcome(folder, SAMPLE[pack])
    assert said and "意外错误" not in said and CJK.search(said), said
    assert name in said and words in said, said


SCALARS = [None, 0, -1, 1.5, "", "未知", [], {}, True, "{{ x.y }}", "{% if %}", "{{ f.nope }}", "sum(nope)", "a =="]


def _nodes(tree, path=()):
    yield path
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from _nodes(v, (*path, i))


def _mutate(tree, rng: random.Random) -> None:
    path = rng.choice([p for p in _nodes(tree) if p])
    parent, key = _at(tree, path[:-1]), path[-1]
    kind = rng.randrange(4)
    if kind == 0:
        del parent[key]
    elif kind == 1 and isinstance(parent[key], str):
        s = parent[key]
        i = rng.randrange(len(s) + 1)
        parent[key] = s[:i] + rng.choice(["{{", "}}", "{%", ".", " ", "nope"]) + s[i:]
    elif kind == 2 and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))
    else:
        parent[key] = copy.deepcopy(rng.choice(SCALARS))


@pytest.mark.parametrize("pack", sorted(SAMPLE))
def test_mutated_pack_files_end_in_a_result_or_a_chinese_error(tmp_path, pack) -> None:
    names = ["pack.yaml", "form.yaml", "rubric.yaml", "rules.yaml", "report.yaml", "wording.yaml"]
    for seed in range(40):
        rng = random.Random(f"{pack}-{seed}")
        folder = tmp_path / f"{pack}-{seed}"
        shutil.copytree(packs_root() / pack, folder)
        name = rng.choice(names)
        data = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        for _ in range(rng.randint(1, 2)):
            _mutate(data, rng)
        (folder / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        said = _outcome(folder, SAMPLE[pack])  # an exception other than XlprocError fails here
        assert "意外错误" not in said, (seed, name, said)
        assert not said or CJK.search(said), (seed, name, said)


# -- report.docx: what a bureau's edit in Word (or a broken copy) can leave ---------------


def _edit_document(folder: Path, change) -> None:
    path = folder / "report.docx"
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i) for i in infos}
    parts["word/document.xml"] = change(parts["word/document.xml"].decode("utf-8")).encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in infos:
            zo.writestr(info.filename, parts[info.filename])
    path.write_bytes(out.getvalue())


def _into_first_text(insert: str):
    return lambda xml: re.sub(r"(<w:t(?: [^>]*)?>)", lambda m: m.group(1) + insert, xml, count=1)


DOCX_CASES = [
    (_into_first_text("{{ 1/0 }}"), "渲染失败"),
    (_into_first_text("{{ range(10**9)|list }}"), "渲染失败"),
    (lambda xml: xml.replace("<w:body>", "<w:body><w:p <", 1), "已损坏"),
    (_into_first_text("{{ nope }}"), "nope"),
]


@pytest.mark.parametrize(("change", "words"), DOCX_CASES)
def test_a_broken_report_template_is_a_chinese_error_naming_it(tmp_path, change, words) -> None:
    folder = _copy(tmp_path, "zpb-2023")
    _edit_document(folder, change)
    said = _outcome(folder, SAMPLE["zpb-2023"])
    assert "report.docx" in said and words in said and "意外错误" not in said, said


def test_mutated_report_templates_end_in_a_report_or_a_chinese_error(tmp_path) -> None:
    inserts = ["{{", "}}", "{%", "%}", "{{ nope }}", "{% if %}", "{% endif %}", "{{ dept }", "</w:t></w:r><w:r><w:t>"]
    inserts += ["{{ 1/0 }}", "{{ scores.rows[99] }}", "<w:br/>", "{#", "&amp;", "{%tr for r in x %}"]
    for seed in range(30):
        rng = random.Random(f"docx-{seed}")
        folder = tmp_path / f"docx-{seed}"
        shutil.copytree(packs_root() / "zpb-2023", folder)

        def change(xml: str, rng: random.Random = rng) -> str:
            tags = [m.start() for m in re.finditer(r"\{[{%]", xml)]
            if tags and rng.random() < 0.3:  # a tag split across runs, as Word does
                i = rng.choice(tags) + rng.randint(1, 6)
                return xml[:i] + "</w:t></w:r><w:r><w:t>" + xml[i:]
            i = rng.randrange(len(xml))
            return xml[:i] + rng.choice(inserts) + xml[i:]

        _edit_document(folder, change)
        said = _outcome(folder, SAMPLE["zpb-2023"])  # an exception other than XlprocError fails here
        assert "意外错误" not in said and (not said or CJK.search(said)), (seed, said)


# -- the template a pack writes: what 'xlproc template --pack' does first --------------

TEXTS = [
    "",
    "x" * 40,
    "长" * 300,
    "a[b]",
    "a:b",
    "a/b",
    "a*b?",
    "'",
    "=1+1",
    "@SUM(A1)",
    "\t",
    "a\nb",
    "History",
    "_form",
]


def _mutate_texts(tree, rng: random.Random) -> None:
    """A string replaced (ids, names, labels, hints, enum items), a list item doubled, or an
    enum list made long (Excel's dropdown source is capped at 255 characters)."""
    texts = [p for p in _nodes(tree) if p and isinstance(_at(tree, p), str)]
    lists = [p for p in _nodes(tree) if p and isinstance(_at(tree, p), list) and _at(tree, p)]
    kind = rng.randrange(3)
    names = [p for p in texts if p[-1] in ("id", "name")]  # what becomes a defined name or a sheet
    if kind == 0 and texts:
        p = rng.choice(names if names and rng.random() < 0.6 else texts)
        _at(tree, p[:-1])[p[-1]] = rng.choice([*TEXTS, _at(tree, p) + rng.choice(TEXTS), _at(tree, p) * 20])
    elif kind == 1 and lists:
        items = _at(tree, rng.choice(lists))
        items.append(copy.deepcopy(rng.choice(items)))
    elif lists:
        items = _at(tree, rng.choice(lists))
        if all(isinstance(x, str) for x in items):
            items.extend(f"选项{i}" * 3 for i in range(rng.randint(5, 80)))


def _at(tree, path):
    for p in path:
        tree = tree[p]
    return tree


def test_a_mutated_pack_writes_a_template_that_reads_back_or_is_refused(tmp_path) -> None:
    for seed in range(40):
        rng = random.Random(f"template-{seed}")
        folder = tmp_path / f"tpl-{seed}"
        shutil.copytree(packs_root() / "zpb-2023", folder)
        name = rng.choice(["form.yaml", "form.yaml", "rubric.yaml", "pack.yaml"])
        data = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        for _ in range(rng.randint(1, 2)):
            _mutate_texts(data, rng)
        (folder / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        try:
            pack = load_pack(folder)
        except XlprocError as exc:
            assert CJK.search(str(exc)) and name in str(exc), (seed, str(exc))
            continue
        out = tmp_path / f"tpl-{seed}.xlsx"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # xlsxwriter leaves out what it warns about: never silently
            write_template(out, spec=pack.spec)
        submission = read_workbook(out, packs=(pack,))
        assert not submission.problems, (seed, submission.problems[:2])
