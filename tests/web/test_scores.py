"""The score a page shows is the figure the submission's own edition ranks by (pack.yaml ``summary``).

The portal names no field of any edition: the submission page, the reviewer's department
page and the dashboard show the pack's ranked figure with its label, for a 2023 round and
for a 2024 one alike.
"""

from __future__ import annotations

import re

import pytest

from xlproc.form.packs import pack_by_id
from xlproc.pipeline import key_figures
from xlproc.reading import read_workbook
from xlproc.web.models import Round, RoundMember

from .conftest import SAMPLES, sample, submission_id, upload, visible_text


def _expected(pack_id: str, path) -> tuple[str, str]:
    """(label, value) of the pack's ranked figure, computed by the library from the workbook."""
    pack = pack_by_id(pack_id)
    figure = pack.rank_figure
    value = key_figures(read_workbook(path, packs=[pack]), pack)[figure.id]
    assert value, f"{path.name}: no {figure.label}"
    return figure.label, value


def _round(portal_app, world, year: int, pack: str) -> int:
    with portal_app.state.portal.db.session() as db:
        rnd = Round(year=year, pack=pack, title=f"{year}年度部门整体绩效自评")
        db.add(rnd)
        db.flush()
        db.add(RoundMember(round_id=rnd.id, department_id=world["b"]))
        return rnd.id


@pytest.mark.parametrize(
    ("year", "pack_id", "path"),
    [
        (2023, "zpb-2023", sample("02_")),
        (2024, "zpb-2024", next(p for p in sorted((SAMPLES / "2024").glob("*.xlsx")) if p.name.startswith("02_"))),
    ],
    ids=["2023", "2024"],
)
def test_pages_show_the_editions_ranked_figure(portal_app, world, as_user, year, pack_id, path):
    label, value = _expected(pack_id, path)
    assert label == "换算得分"
    rid = _round(portal_app, world, year, pack_id)
    dept, reviewer = as_user("dept_b"), as_user("reviewer")

    r = upload(dept, rid, path.name, path.read_bytes())
    assert r.status_code == 200
    submission_id(r)
    assert f"，{label} {value} 分" in visible_text(r.text)

    page = reviewer.get(f"/review/rounds/{rid}/departments/{world['b']}")
    assert f"，{label} {value} 分" in visible_text(page.text)

    dash = reviewer.get(f"/review/rounds/{rid}").text
    assert re.search(rf">\s*{re.escape(label)}\s*<", dash), "the score column is headed by the figure's label"
    assert re.search(rf'<td class="num">{re.escape(value)}</td>', dash)


def test_a_round_of_an_uninstalled_edition_shows_no_score():
    from types import SimpleNamespace

    from xlproc.web.service import score_of

    assert score_of(SimpleNamespace(pack="no-such-pack", figures={"score_converted": "99.00"})) == ("", "")
    assert score_of(SimpleNamespace(pack="zpb-2024", figures={"score_converted": "99.00"})) == ("换算得分", "99.00")
    assert score_of(SimpleNamespace(pack="zpb-2024", figures={"score_total": "80.0"})) == ("换算得分", "")
    assert score_of(None) == ("", "")
