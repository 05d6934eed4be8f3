"""A stored digest as Telegram HTML messages, a chart image and an XLSX workbook. Pure
functions of the stored data: no SQL, no aiogram. The bot passes its gettext, the CLI an
identity function for English."""

from __future__ import annotations

import io
import textwrap
from datetime import date, timedelta
from typing import Any

from common.errors import N_
from common.tables import XLSX_ILLEGAL
from common.text import MESSAGE_LIMIT, pack_messages
from digest.sections import SECTIONS
from digest.sections.base import Data, Gettext, Indicator, e

AUDIENCE_LABELS = {
    "officers": N_("the whole union"),
    "box": N_("mailbox {key}"),
    "department": N_("department {key}"),
}
_BY_KEY = {section.key: section for section in SECTIONS}


def _dates(data: Data) -> tuple[date, date]:
    first = date.fromisoformat(data["first_day"])
    return first, first + timedelta(days=6)


def audience_label(audience: str, gettext: Gettext) -> str:
    kind, _, key = audience.partition(":")
    return gettext(AUDIENCE_LABELS.get(kind, kind)).format(key=key)


def render_messages(
    data: Data, gettext: Gettext, locale: str | None, *, limit: int = MESSAGE_LIMIT
) -> list[str]:
    """The digest as HTML messages of at most `limit` characters (escaped, tags never split)."""
    first, last = _dates(data)
    head = [
        "<b>" + gettext("Weekly digest {period}").format(period=e(data["period"])) + "</b>",
        gettext("{first} – {last}, for {audience}; changes against the week before.").format(
            first=first.isoformat(),
            last=last.isoformat(),
            audience=e(audience_label(data["audience"], gettext)),
        ),
    ]
    blocks = ["\n".join(head)]
    for key, section_data in data["sections"].items():
        section = _BY_KEY.get(key)
        if section is None:
            continue
        lines = section.render(section_data, gettext, locale)
        blocks.append("\n".join([f"<b>{e(gettext(section.title))}</b>", *lines]))
    return pack_messages(blocks, limit)


def indicators(data: Data) -> list[Indicator]:
    found: list[Indicator] = []
    for key, section_data in data["sections"].items():
        section = _BY_KEY.get(key)
        if section is not None:
            found += section.indicators(section_data)
    return found


def render_chart(data: Data, gettext: Gettext) -> bytes:
    """A PNG: this week against last week for the key figures, and the top themes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from surveys.charts import chinese_font_family

    family = chinese_font_family()
    font: dict[str, Any] = {"fontfamily": [family, "DejaVu Sans"]} if family else {}
    shown = [i for i in indicators(data) if i.previous is not None]
    themes = data["sections"].get("themes", {}).get("themes", [])[:8]
    panels = 1 + bool(themes)
    figure = Figure(figsize=(7.5, 1.6 + 0.5 * max(len(shown), len(themes), 3)), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, panels, 1)
    labels = [textwrap.fill(gettext(i.label), 10) for i in shown]
    positions = list(range(len(shown)))
    height = 0.4
    this_week = axes.barh(
        [p - height / 2 for p in positions],
        [i.current for i in shown],
        height,
        color="#3b7dd8",
        label=gettext("this week"),
    )
    last_week = axes.barh(
        [p + height / 2 for p in positions],
        [i.previous or 0 for i in shown],
        height,
        color="#c9c9c9",
        label=gettext("last week"),
    )
    axes.set_yticks(positions, labels, **font)
    axes.invert_yaxis()
    axes.bar_label(this_week, padding=2, **font)
    axes.bar_label(last_week, padding=2, **font)
    axes.legend(prop={"family": font["fontfamily"]} if font else None, loc="lower right")
    axes.set_title(gettext("Weekly digest {period}").format(period=data["period"]), **font)
    axes.spines[["top", "right"]].set_visible(False)
    if themes:
        theme_axes = figure.add_subplot(1, panels, 2)
        bars = theme_axes.barh(range(len(themes)), [t["count"] for t in themes], color="#2e9e5b")
        theme_axes.set_yticks(range(len(themes)), [t["keyword"] for t in themes], **font)
        theme_axes.invert_yaxis()
        theme_axes.bar_label(bars, padding=2, **font)
        theme_axes.set_title(gettext("Themes in what members wrote"), **font)
        theme_axes.spines[["top", "right"]].set_visible(False)
    # Fixed margins (labels are wrapped to 10 characters): tight_layout would draw the whole
    # figure once more just to measure it, half the cost of the chart.
    figure.subplots_adjust(left=0.2, right=0.95, top=0.88, bottom=0.08, wspace=0.6)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def render_workbook(data: Data) -> bytes:
    """An XLSX with one sheet per table of every section (Chinese headers, like the other
    exports); text cells are never formulas. Written in openpyxl's write-only mode."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def cell(sheet: Any, value: object, *, header: bool = False) -> object:
        if not isinstance(value, str):
            return value  # plain values are much faster to write than cell objects
        value = XLSX_ILLEGAL.sub("", value)
        if header or value.startswith("="):  # headers are texts (Table.header: list[str])
            # openpyxl takes a text starting with "=" for a formula: typed as text, never run
            written = WriteOnlyCell(sheet, value=value)
            written.data_type = "s"
            if header:
                written.font = bold
            return written
        return value

    overview = workbook.create_sheet("概览")
    for row in (
        ["周期", data["period"]],
        ["对象", data["audience"]],
        ["生成时间", data["built_at"]],
        [],
    ):
        overview.append([cell(overview, v) for v in row])
    overview.append([cell(overview, v, header=True) for v in ("指标", "本周", "上周")])
    for indicator in indicators(data):
        overview.append(
            [cell(overview, v) for v in (indicator.label, indicator.current, indicator.previous)]
        )
    used = {"概览"}
    for key, section_data in data["sections"].items():
        section = _BY_KEY.get(key)
        if section is None:
            continue
        for table in section.sheets(section_data):
            title = table.title[:31]
            while title in used:
                title = title[:29] + "_2"
            used.add(title)
            sheet = workbook.create_sheet(title)
            sheet.freeze_panes = "A2"
            sheet.append([cell(sheet, v, header=True) for v in table.header])
            for row in table.rows:
                sheet.append([cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
