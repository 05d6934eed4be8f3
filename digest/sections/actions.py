"""Improvement actions: opened, due, done this week and their measured effect; every action
not yet closed is listed, week after week, until it is."""

from __future__ import annotations

from datetime import timedelta

from common.errors import N_
from common.text import preview
from digest.sections.base import (
    Data,
    Gettext,
    Indicator,
    Section,
    SectionContext,
    Sheet,
    change,
    e,
    number,
)
from improvements.model import STATUS_LABELS, UNFINISHED, ActionDTO, ActionStatus


def _item(action: ActionDTO) -> dict[str, object]:
    return {
        "id": action.id,
        "title": action.title,
        "status": action.status.value,
        "owner": action.owner,
        "department": action.department,
        "due_on": action.due_on.isoformat() if action.due_on else None,
        "effect": action.effect,
        "evidence": [
            {"before": ev.before, "after": ev.after, "measure": ev.measure}
            for ev in action.evidence
        ],
    }


async def collect(ctx: SectionContext) -> Data:
    repo = ctx.repos.improvements
    department = ctx.department
    tz = ctx.settings.tz
    now = await repo.figures(ctx.start, ctx.end, ctx.today, UNFINISHED, department)
    before = await repo.figures(
        ctx.previous.start(tz), ctx.previous.end(tz), ctx.today, UNFINISHED, department
    )
    unfinished = await repo.in_status(UNFINISHED, department)
    soon = ctx.today + timedelta(days=ctx.settings.due_soon_days)
    return {
        "opened": now.opened,
        "opened_previous": before.opened,
        "closed": now.closed,
        "closed_previous": before.closed,
        "unfinished": now.unfinished,
        "overdue": now.overdue,
        "due_soon": sum(1 for a in unfinished if a.due_on and ctx.today <= a.due_on <= soon),
        "today": ctx.today.isoformat(),
        "open_items": [_item(a) for a in unfinished],
        "closed_items": [
            _item(a) for a in await repo.closed_between(ctx.start, ctx.end, department)
        ],
    }


def _evidence(item: dict, gettext: Gettext) -> str:
    parts = []
    for ev in item["evidence"]:
        if ev["before"] is not None and ev["after"] is not None:
            parts.append(
                gettext("score {before} → {after}").format(
                    before=number(ev["before"], 2), after=number(ev["after"], 2)
                )
            )
    return "; ".join(parts)


def render(data: Data, gettext: Gettext, _locale: str | None) -> list[str]:
    lines = [
        gettext(
            "Opened: {opened}{opened_change}; closed: {closed}{closed_change}; "
            "still open: {open} (overdue {overdue}, due within a week {soon})"
        ).format(
            opened=data["opened"],
            opened_change=change(data["opened"], data["opened_previous"]),
            closed=data["closed"],
            closed_change=change(data["closed"], data["closed_previous"]),
            open=data["unfinished"],
            overdue=data["overdue"],
            soon=data["due_soon"],
        )
    ]
    for item in data["closed_items"][:15]:
        evidence = _evidence(item, gettext)
        lines.append(
            f"  ✅ #{item['id']} {e(preview(item['title'], 50))}"
            + (f" — {e(preview(item['effect'] or '', 80))}" if item["effect"] else "")
            + (f" ({evidence})" if evidence else "")
        )
    for item in data["open_items"][:15]:
        overdue = item["due_on"] is not None and item["due_on"] < data["today"]
        lines.append(
            f"  {'⚠️' if overdue else '🛠'} #{item['id']} {e(preview(item['title'], 50))} · "
            + gettext(STATUS_LABELS[ActionStatus(item["status"])])
            + (f" · {e(item['owner'])}" if item["owner"] else "")
            + (" · " + gettext("due {date}").format(date=item["due_on"]) if item["due_on"] else "")
        )
    if len(data["open_items"]) > 15:
        lines.append(
            gettext("…and {count} more in the workbook.").format(count=len(data["open_items"]) - 15)
        )
    return lines


def sheets(data: Data) -> list[Sheet]:
    header = ["编号", "问题", "状态", "责任人", "部门", "完成期限", "改进成效", "前", "后"]
    rows = []
    for item in data["closed_items"] + data["open_items"]:
        evidence = item["evidence"][0] if item["evidence"] else {"before": None, "after": None}
        rows.append(
            [
                item["id"],
                item["title"],
                item["status"],
                item["owner"],
                item["department"],
                item["due_on"],
                item["effect"],
                evidence["before"],
                evidence["after"],
            ]
        )
    return [Sheet("改进措施", header, rows)]


def indicators(data: Data) -> list[Indicator]:
    return [
        Indicator(N_("Actions opened"), data["opened"], data["opened_previous"]),
        Indicator(N_("Actions closed"), data["closed"], data["closed_previous"]),
    ]


SECTION = Section(
    key="actions",
    title=N_("Improvement actions"),
    audiences=frozenset({"officers", "department"}),
    collect=collect,
    render=render,
    sheets=sheets,
    indicators=indicators,
)
