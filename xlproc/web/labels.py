"""How the audit log's stored codes read on the administrator's page (the rows keep the codes)."""

from __future__ import annotations

ACTIONS = {
    "login": "登录",
    "login_failed": "登录失败",
    "login_blocked": "登录被暂停",
    "invite_accepted": "通过邀请设置密码",
    "upload": "上传工作簿",
    "download_template": "下载空白填报表",
    "download_original": "下载原文件",
    "download_annotated": "下载批注工作簿",
    "download_report": "下载报告草稿",
    "download_final": "下载正式报告",
    "download_summary": "下载汇总表",
    "download_zip": "下载全部输出",
    "accept": "确认报送",
    "return": "退回修改",
    "run_round": "重新审核本轮",
    "rerun_submission": "重新审核后更新",
    "create_round": "开启轮次",
    "change_pack": "更换表单包",
    "import_roster": "导入部门名单",
    "create_user": "新建账号",
    "reinvite": "重发邀请",
}
TARGETS = {"submission": "第 {} 号报送", "round": "第 {} 轮", "job": "第 {} 次整轮审核", "user": "第 {} 号账号"}


def action_label(code: str) -> str:
    """``download_zip`` → 下载全部输出 (an unknown code is shown as it is)."""
    return ACTIONS.get(code, code)


def target_label(target: str) -> str:
    """``submission:12`` → 第 12 号报送; anything else (a user name) as it is."""
    kind, _, ident = target.partition(":")
    return TARGETS[kind].format(ident) if kind in TARGETS and ident.isdigit() else target
