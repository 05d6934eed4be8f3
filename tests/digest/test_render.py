"""ISO-week periods, and the chart and workbook drawn from a stored digest (Chinese labels with
the bundled font: no missing glyph)."""

from __future__ import annotations

import io
import warnings
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from digest.period import Period, PeriodError, latest_due
from digest.render import render_chart, render_workbook
from digest.service import english

SHANGHAI = ZoneInfo("Asia/Shanghai")
DATA = {
    "period": "2026-W48",
    "audience": "officers",
    "first_day": "2026-11-23",
    "built_at": "2026-11-30T08:30+08:00",
    "sections": {
        "proposals": {
            "department": None,
            "new": 4,
            "new_previous": 2,
            "answered": 1,
            "answered_previous": 3,
            "ratings": [1, 0, 0],
            "ratings_previous": [0, 0, 0],
            "by_status": {"submitted": 4},
            "overdue": 0,
            "due_total": 0,
            "due": [],
        },
        "themes": {
            "texts": 9,
            "themes": [
                {"keyword": "食堂", "count": 5, "previous": 2, "sources": {}, "quotes": []},
                {"keyword": "=停车", "count": 3, "previous": 0, "sources": {}, "quotes": []},
            ],
        },
    },
}


def test_periods() -> None:
    assert Period.parse("2026-w48") == Period(2026, 48)
    assert str(Period(2026, 1).previous()) == "2025-W52"
    assert str(Period(2026, 53).next()) == "2027-W01"  # 2026 has 53 ISO weeks
    with pytest.raises(PeriodError):
        Period.parse("2025-W53")
    with pytest.raises(PeriodError):
        Period.parse("last week")
    week = Period(2026, 48)
    assert week.start(SHANGHAI) == datetime(2026, 11, 22, 16, tzinfo=UTC)  # Monday 00:00 local
    assert week.due_at(1, time(8, 30), SHANGHAI) == datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    sunday_night = datetime(2026, 11, 29, 23, 59, tzinfo=SHANGHAI)
    assert latest_due(sunday_night, 1, time(8, 30), SHANGHAI) == Period(2026, 47)
    friday_due = latest_due(datetime(2026, 12, 4, 18, tzinfo=SHANGHAI), 5, time(17), SHANGHAI)
    assert friday_due == week


def test_chart_draws_chinese_labels() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_chart(DATA, english(None))
    assert png.startswith(b"\x89PNG")
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_workbook_has_a_sheet_per_table_and_no_formulas() -> None:
    book = load_workbook(io.BytesIO(render_workbook(DATA)))
    assert book.sheetnames == ["概览", "提案概况", "到期提案", "主题"]
    themes = book["主题"]
    assert themes.cell(3, 1).value == "=停车" and themes.cell(3, 1).data_type == "s"
