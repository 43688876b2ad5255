"""Where a department stands in a round: the five statuses of the reviewer's dashboard."""

from __future__ import annotations

NOT_SUBMITTED, HAS_ERRORS, NEEDS_ANSWERS, TO_CONFIRM, CONFIRMED = "未报送", "有错误", "待说明", "待确认", "已确认"
STATUSES = (NOT_SUBMITTED, HAS_ERRORS, NEEDS_ANSWERS, TO_CONFIRM, CONFIRMED)
STATUS_CLASS = {
    NOT_SUBMITTED: "s-none",
    HAS_ERRORS: "s-error",
    NEEDS_ANSWERS: "s-warn",
    TO_CONFIRM: "s-todo",
    CONFIRMED: "s-ok",
}


def status_of(submission, decision) -> str:
    """The status from the latest submission and the latest decision on it (either may be None).

    A failed file or any mandatory finding → 有错误; a submission returned by the
    reviewer, or with advisory findings not yet explained → 待说明; accepted → 已确认.
    """
    if submission is None:
        return NOT_SUBMITTED
    if decision is not None and decision.action == "accept":
        return CONFIRMED
    counts = submission.counts or {}
    if submission.status != "ok" or counts.get("error", 0):
        return HAS_ERRORS
    if (decision is not None and decision.action == "return") or counts.get("open_warning", 0):
        return NEEDS_ANSWERS
    return TO_CONFIRM
