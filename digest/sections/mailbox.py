"""Mailbox (院长信箱/书记信箱): letters by box and type, unanswered, overdue, median time to
the first reply. The figures come from DigestRepository.mailbox_figures, which returns None
until the mailbox's query is written: the section then says "no mailbox data"."""

from __future__ import annotations

from common.errors import N_
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


async def collect(ctx: SectionContext) -> Data:
    repo = ctx.repos.digests
    figures = await repo.mailbox_figures(ctx.start, ctx.end, ctx.box)
    if figures is None:
        return {"available": False}
    before = await repo.mailbox_figures(
        ctx.previous.start(ctx.settings.tz), ctx.previous.end(ctx.settings.tz), ctx.box
    )
    return {
        "available": True,
        "by_box_and_type": figures.by_box_and_type,
        "received": sum(sum(types.values()) for types in figures.by_box_and_type.values()),
        "received_previous": (
            sum(sum(types.values()) for types in before.by_box_and_type.values())
            if before
            else None
        ),
        "unanswered": figures.unanswered,
        "overdue": figures.overdue,
        "median_hours": figures.median_first_reply_hours,
        "median_hours_previous": before.median_first_reply_hours if before else None,
    }


def render(data: Data, gettext: Gettext, locale: str | None) -> list[str]:
    if not data["available"]:
        return [gettext("No mailbox data.")]
    lines = [
        gettext("Letters received: {count}{change}").format(
            count=data["received"], change=change(data["received"], data["received_previous"])
        )
    ]
    for box, types in sorted(data["by_box_and_type"].items()):
        parts = ", ".join(f"{e(kind)} {count}" for kind, count in sorted(types.items()))
        lines.append(f"  • {e(box)}: {parts}")
    lines.append(
        gettext("Unanswered: {unanswered}; overdue: {overdue}").format(
            unanswered=data["unanswered"], overdue=data["overdue"]
        )
    )
    if data["median_hours"] is not None:
        lines.append(
            gettext("Median time to the first reply: {hours} h{change}").format(
                hours=number(data["median_hours"]),
                change=change(data["median_hours"], data["median_hours_previous"]),
            )
        )
    return lines


def sheets(data: Data) -> list[Sheet]:
    if not data["available"]:
        return []
    return [
        Sheet(
            "信箱",
            ["信箱", "类型", "本周来信"],
            [
                [box, kind, count]
                for box, types in sorted(data["by_box_and_type"].items())
                for kind, count in sorted(types.items())
            ],
        )
    ]


def indicators(data: Data) -> list[Indicator]:
    if not data["available"]:
        return []
    return [Indicator(N_("Letters"), data["received"], data["received_previous"])]


SECTION = Section(
    key="mailbox",
    title=N_("Mailbox"),
    audiences=frozenset({"officers", "box"}),
    collect=collect,
    render=render,
    sheets=sheets,
    indicators=indicators,
)
