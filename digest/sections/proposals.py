"""Proposals: new, by status, overdue, answered, proposers' satisfaction; for a department,
its items due soon or overdue."""

from __future__ import annotations

from datetime import timedelta

from common.errors import N_
from common.text import preview
from digest.sections.base import Data, Gettext, Indicator, Section, SectionContext, Sheet, change, e
from proposals.model import STATUS_LABELS, Status


async def collect(ctx: SectionContext) -> Data:
    repo = ctx.repos.digests
    department = ctx.department
    now = await repo.proposal_figures(ctx.start, ctx.end, department)
    before = await repo.proposal_figures(
        ctx.previous.start(ctx.settings.tz), ctx.previous.end(ctx.settings.tz), department
    )
    horizon = ctx.today + timedelta(days=ctx.settings.due_soon_days if department else -1)
    due, due_total = await repo.proposals_due(
        horizon, department, limit=ctx.settings.list_limit * 10
    )
    return {
        "department": department,
        "new": now.new,
        "new_previous": before.new,
        "answered": now.answered,
        "answered_previous": before.answered,
        "ratings": [now.satisfied, now.basically, now.unsatisfied],
        "ratings_previous": [before.satisfied, before.basically, before.unsatisfied],
        "by_status": await repo.proposals_by_status(department),
        "overdue": sum(1 for item in due if item.due_on < ctx.today),
        "due_total": due_total,
        "due": [
            {
                "id": item.id,
                "title": item.title,
                "department": item.department,
                "due_on": item.due_on.isoformat(),
                "overdue": item.due_on < ctx.today,
            }
            for item in due
        ],
    }


def _satisfaction(ratings: list[int]) -> float | None:
    """满意 + 基本满意 share of ratings, in %."""
    total = sum(ratings)
    return 100 * (ratings[0] + ratings[1]) / total if total else None


def render(data: Data, gettext: Gettext, _locale: str | None) -> list[str]:
    lines = [
        gettext("New: {new}{new_change}; answered: {answered}{answered_change}").format(
            new=data["new"],
            new_change=change(data["new"], data["new_previous"]),
            answered=data["answered"],
            answered_change=change(data["answered"], data["answered_previous"]),
        )
    ]
    if data["by_status"]:
        lines.append(
            gettext("By status: {list}").format(
                list="; ".join(
                    f"{gettext(STATUS_LABELS[Status(status)])} {count}"
                    for status, count in sorted(data["by_status"].items())
                    if status in Status.__members__.values()
                )
            )
        )
    satisfaction = _satisfaction(data["ratings"])
    if satisfaction is not None:
        satisfied, basically, unsatisfied = data["ratings"]
        lines.append(
            gettext(
                "Proposers' ratings: satisfied {satisfied}, basically {basically}, "
                "unsatisfied {unsatisfied} (satisfied: {share} %{change})"
            ).format(
                satisfied=satisfied,
                basically=basically,
                unsatisfied=unsatisfied,
                share=round(satisfaction),
                change=change(satisfaction, _satisfaction(data["ratings_previous"]), 0),
            )
        )
    if data["due"]:
        title = (
            gettext("Due within a week or overdue: {count}")
            if data["department"]
            else gettext("Overdue: {count}")
        )
        lines.append(title.format(count=data["due_total"]))
        for item in data["due"][:15]:
            mark = "⚠️" if item["overdue"] else "⏳"
            lines.append(
                f"  {mark} #{item['id']} {e(preview(item['title'], 50))} · "
                + gettext("due {date}").format(date=item["due_on"])
                + (f" · {e(item['department'])}" if item["department"] else "")
            )
    elif data["department"]:
        lines.append(gettext("Nothing due within a week."))
    return lines


def sheets(data: Data) -> list[Sheet]:
    summary = Sheet(
        "提案概况",
        ["指标", "本周", "上周"],
        [
            ["新提交", data["new"], data["new_previous"]],
            ["已答复", data["answered"], data["answered_previous"]],
            ["满意", data["ratings"][0], data["ratings_previous"][0]],
            ["基本满意", data["ratings"][1], data["ratings_previous"][1]],
            ["不满意", data["ratings"][2], data["ratings_previous"][2]],
            *[[f"状态: {status}", count, None] for status, count in data["by_status"].items()],
        ],
    )
    due = Sheet(
        "到期提案",
        ["编号", "标题", "承办部门", "答复期限", "已逾期"],
        [
            [d["id"], d["title"], d["department"], d["due_on"], "是" if d["overdue"] else ""]
            for d in data["due"]
        ],
    )
    return [summary, due]


def indicators(data: Data) -> list[Indicator]:
    return [
        Indicator(N_("New proposals"), data["new"], data["new_previous"]),
        Indicator(N_("Proposals answered"), data["answered"], data["answered_previous"]),
    ]


SECTION = Section(
    key="proposals",
    title=N_("Proposals"),
    audiences=frozenset({"officers", "box", "department"}),
    collect=collect,
    render=render,
    sheets=sheets,
    indicators=indicators,
)
