"""Mailbox (院长信箱/书记信箱): letters by box and type, unanswered, overdue, median time to
the first reply — counts only, never what the letters say. Officers see every box; a box's
recipients see theirs."""

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
from mailboxes.model import TYPE_LABELS, LetterType


async def collect(ctx: SectionContext) -> Data:
    repo = ctx.repos.digests
    reply_days = ctx.settings.mailbox_reply_days
    figures = await repo.mailbox_figures(ctx.start, ctx.end, ctx.box, reply_days=reply_days)
    before = await repo.mailbox_figures(
        ctx.previous.start(ctx.settings.tz),
        ctx.previous.end(ctx.settings.tz),
        ctx.box,
        reply_days=reply_days,
    )
    return {
        "box_names": {box.key: box.names for box in ctx.settings.boxes},
        "by_box_and_type": figures.by_box_and_type,
        "received": sum(sum(types.values()) for types in figures.by_box_and_type.values()),
        "received_previous": sum(sum(types.values()) for types in before.by_box_and_type.values()),
        "unanswered": figures.unanswered,
        "overdue": figures.overdue,
        "median_hours": figures.median_first_reply_hours,
        "median_hours_previous": before.median_first_reply_hours,
    }


def render(data: Data, gettext: Gettext, locale: str | None) -> list[str]:
    lines = [
        gettext("Letters received: {count}{change}").format(
            count=data["received"], change=change(data["received"], data["received_previous"])
        )
    ]
    names = data["box_names"]
    for box, types in sorted(data["by_box_and_type"].items()):
        parts = ", ".join(
            f"{e(gettext(TYPE_LABELS[LetterType(kind)]))} {count}"
            for kind, count in sorted(types.items())
        )
        name = names.get(box, {}).get(locale or "zh") or names.get(box, {}).get("zh") or box
        lines.append(f"  • {e(name)}: {parts}")
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
