"""Form packs: loading, validation errors naming file and YAML path, finding an edition."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from xlproc.errors import SpecError
from xlproc.form.packs import default_pack, editions_text, find_pack, installed_packs, load_pack, packs_root

ROOT = Path(__file__).resolve().parent.parent


def _copy(tmp_path: Path, pack_id: str = "zpb-2023") -> Path:
    target = tmp_path / "pack"
    shutil.copytree(packs_root() / pack_id, target)
    return target


def _edit(folder: Path, change) -> None:
    path = folder / "pack.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_shipped_packs_are_installed_and_valid():
    packs = installed_packs()
    ids = [p.id for p in packs]
    assert "zpb-2023" in ids
    for pack in packs:
        assert pack.dir.parent == packs_root()
        assert pack.spec.form_id == pack.form_id and pack.spec.version == pack.version
        assert pack.department_field in pack.spec.fields
        assert pack.spec.department_field == pack.department_field
        for path in (pack.rules_path, pack.report_template, pack.report_yaml):
            assert path.is_file(), path
        assert any(f.rank for f in pack.summary)
    # oldest edition first; the default is the newest unless XLPROC_DEFAULT_PACK pins one
    assert [p.year for p in packs] == sorted(p.year for p in packs)
    assert ids == ["zpb-2023", "zpb-2024"]


def test_default_pack_is_the_newest_or_the_pinned_one(monkeypatch):
    monkeypatch.delenv("XLPROC_DEFAULT_PACK", raising=False)
    assert default_pack() is installed_packs()[-1]
    monkeypatch.setenv("XLPROC_DEFAULT_PACK", "zpb-2023")
    assert default_pack().id == "zpb-2023"
    monkeypatch.setenv("XLPROC_DEFAULT_PACK", "zpb-1999")
    with pytest.raises(SpecError, match="zpb-1999"):
        default_pack()


def test_find_pack_by_edition_and_extra_pack_first(tmp_path):
    p2023 = find_pack("xlproc-zpb", "2023.1")
    assert p2023 is not None and p2023.id == "zpb-2023"
    assert find_pack("xlproc-zpb", "1999.1") is None
    assert find_pack("other-form", "2023.1") is None
    folder = _copy(tmp_path)
    _edit(folder, lambda d: d["pack"].update(id="my-2023"))
    mine = find_pack("xlproc-zpb", "2023.1", extra=[folder])
    assert mine is not None and mine.id == "my-2023" and mine.dir == folder.resolve()
    assert "xlproc-zpb 2023.1（zpb-2023）" in editions_text()


def test_load_pack_is_cached_per_folder():
    a = load_pack(packs_root() / "zpb-2023")
    b = load_pack(str(packs_root() / "zpb-2023"))
    assert a is b


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        (lambda d: d["pack"].update(version="2099.9"), "pack", "不一致"),
        (lambda d: d["pack"].update(year="明年"), "pack.year", "四位年份"),
        (lambda d: d.update(department_field="no_such_field"), "department_field", "no_such_field"),
        (lambda d: d["summary"][0].update(field="no_such_field"), "summary[0].field", "no_such_field"),
        (lambda d: d["summary"][0].update(kind="colour"), "summary[0].kind", "score"),
        (lambda d: d["summary"][4].update(compute={"difference": ["a"]}), "summary[4].compute", "2 个字段"),
        (lambda d: d["summary"][1].update(rank=True), "summary", "rank"),
        (
            lambda d: d.update(previous={"pack": "x", "fields": {"old": "no_such_new"}}),
            "previous.fields.old",
            "no_such_new",
        ),
        (lambda d: d.pop("pack"), "pack", "应为键值映射"),
    ],
)
def test_malformed_pack_names_file_and_yaml_path(tmp_path, change, where, words):
    folder = _copy(tmp_path)
    _edit(folder, change)
    with pytest.raises(SpecError) as err:
        load_pack(folder)
    message = str(err.value)
    assert str(folder / "pack.yaml") in message
    assert f": {where}" in message
    assert words in message


def test_folder_without_pack_yaml_or_with_missing_files(tmp_path):
    with pytest.raises(SpecError, match="不是表单包"):
        load_pack(tmp_path)
    folder = _copy(tmp_path)
    (folder / "rules.yaml").unlink()
    with pytest.raises(SpecError, match=r"缺少文件 rules\.yaml"):
        load_pack(folder)


def test_yaml_syntax_error_names_line(tmp_path):
    folder = _copy(tmp_path)
    (folder / "pack.yaml").write_text("pack: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"pack\.yaml: YAML 语法错误 第\d+行"):
        load_pack(folder)


def _other_edition(tmp_path: Path, version: str = "2099.1") -> Path:
    folder = _copy(tmp_path)
    _edit(folder, lambda d: d["pack"].update(id="zpb-2099", version=version, year=2099))
    form = folder / "form.yaml"
    form.write_text(form.read_text(encoding="utf-8").replace('version: "2023.1"', f'version: "{version}"'), "utf-8")
    return folder


def test_workbook_read_with_its_own_edition(tmp_path):
    from xlproc.errors import WorkbookError
    from xlproc.reading.workbook import read_workbook
    from xlproc.template import write_template

    folder = _other_edition(tmp_path)
    pack = load_pack(folder)
    book = write_template(tmp_path / "2099.xlsx", year=2099, department="测试局", spec=pack.spec)
    with pytest.raises(WorkbookError) as err:
        read_workbook(book)
    message = str(err.value)
    assert "表单版本不符" in message and "2099.1" in message and "xlproc-zpb 2023.1（zpb-2023）" in message
    assert "--pack" in message
    sub = read_workbook(book, packs=[folder])
    assert sub.form_version == "2099.1" and sub.spec is pack.spec
    assert sub.department == "测试局"
    assert sub.value(pack.year_field) == 2099
