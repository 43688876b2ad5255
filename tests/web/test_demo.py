"""`make serve`'s demo round: accounts printed once, the sample departments, their uploads checked."""

from __future__ import annotations

from sqlalchemy import func, select

from xlproc.web.demo import seed_demo
from xlproc.web.models import Submission

from .conftest import ROOT, login, new_client


def test_demo_round_from_samples(tmp_path):
    from xlproc.web.app import build_app
    from xlproc.web.settings import Settings

    app = build_app(Settings(data=tmp_path / "data", jobs=0))
    portal = app.state.portal
    accounts = seed_demo(portal, ROOT / "samples")
    roles = [role for role, _name, _pw in accounts]
    assert roles.count("admin") == 1 and roles.count("reviewer") == 1 and roles.count("department") == 7
    assert len({pw for _r, _n, pw in accounts}) == len(accounts)  # every password its own
    assert seed_demo(portal, ROOT / "samples") is None  # only once: passwords are never shown again
    with portal.db.session() as db:
        assert db.scalar(select(func.count(Submission.id))) == 6  # all but 网信办, left for the visitor
        assert db.scalar(select(func.count(Submission.id)).where(Submission.status == "ok")) == 6
    reviewer = next(a for a in accounts if a[0] == "reviewer")
    wxb = next(a for a in accounts if "网络安全" in a[1])
    with new_client(app) as c:
        login(c, reviewer[1], reviewer[2])
        page = c.get("/review").text  # one round: straight to its dashboard
        assert "（演示）" in page and "未报送 1" in page and "示例区司法局" in page
    with new_client(app) as c:
        login(c, wxb[1], wxb[2])
        assert "未报送" in c.get("/dept").text
