"""Export of raw responses: CSV (UTF-8 with BOM), XLSX and JSON, read back and compared."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from storage.repos.survey_results import SurveyResultsRepository
from storage.uow import Repositories
from surveys.export import export_results
from surveys.model import AnswerRow
from tests.surveys.test_results import choice, create_survey, member_ids, respond, value

NAMED_HEADER = [
    "employee_id",
    "name",
    "department",
    "submitted_at",
    "canteen 最常吃什么？",
    "dishes 喜欢哪些？",
    "overall 总体满意度？",
    "nps 推荐给同事的可能性？",
    "years 工龄（年）",
    "comment 其他意见？",
]


async def named_survey(database):
    ids = await member_ids(database)
    survey = await create_survey(database, anonymous=False)
    await respond(
        database,
        survey,
        [
            *choice("canteen", "米饭"),
            *choice("dishes", "米饭", "饺子", other="包子"),
            value(4),
            value(9, "nps"),
            value(12, "years"),
            AnswerRow("comment", text="排队太久，\n希望增加窗口"),
        ],
        member_id=ids["T01"],
        department="教务处",
        at=datetime(2026, 11, 20, 1, 30, tzinfo=UTC),
    )
    await respond(
        database,
        survey,
        [*choice("canteen", other="粥"), value(2), AnswerRow("comment", text="=1+1")],
        member_id=ids["T03"],
        department="外语学院",
        at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
    )
    return survey


async def export(database, survey, fmt, **options) -> bytes:
    out = io.BytesIO()
    async with database.sessions() as session:
        await export_results(Repositories(session), survey, fmt, out, **options)
    return out.getvalue()


async def test_csv_has_a_bom_and_reads_back(database):
    survey = await named_survey(database)
    data = await export(database, survey, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == NAMED_HEADER
    assert rows[1] == [
        "T01",
        "张三",
        "教务处",
        "2026-11-20 09:30:00",  # Asia/Shanghai
        "米饭",
        "米饭; 饺子; 其他: 包子",
        "4",
        "9",
        "12",
        "排队太久，\n希望增加窗口",
    ]
    # A text that a spreadsheet would run as a formula is defused with an apostrophe.
    assert rows[2][:4] == ["T03", "王五", "外语学院", "2026-11-21 10:00:00"]
    assert rows[2][4:] == ["其他: 粥", "", "2", "", "", "'=1+1"]
    assert len(rows) == 3


async def test_xlsx_reads_back_with_bold_header_and_widths(database):
    survey = await named_survey(database)
    data = await export(database, survey, "xlsx")
    assert data.startswith(b"PK")
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == NAMED_HEADER
    assert rows[1] == [
        "T01",
        "张三",
        "教务处",
        datetime(2026, 11, 20, 9, 30),
        "米饭",
        "米饭; 饺子; 其他: 包子",
        4,
        9,
        12,
        "排队太久，\n希望增加窗口",
    ]
    assert rows[2][4:] == ["其他: 粥", None, 2, None, None, "=1+1"]
    assert sheet["J3"].data_type == "s"  # a string, not a formula
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.column_dimensions["J"].width == 50  # the text question
    assert sheet.column_dimensions["A"].width > 0
    assert sheet.freeze_panes == "A2"


async def test_json_is_a_list_of_objects(database):
    survey = await named_survey(database)
    data = await export(database, survey, "json")
    assert "张三".encode() in data  # ensure_ascii=False
    items = json.loads(data)
    assert items[0] == {
        "employee_id": "T01",
        "name": "张三",
        "department": "教务处",
        "submitted_at": "2026-11-20T09:30:00+08:00",
        "canteen": "米饭",
        "dishes": ["米饭", "饺子", "其他: 包子"],
        "overall": 4,
        "nps": 9,
        "years": 12,
        "comment": "排队太久，\n希望增加窗口",
    }
    assert items[1]["canteen"] == "其他: 粥" and items[1]["dishes"] is None
    assert items[1]["comment"] == "=1+1"  # JSON is data, not a spreadsheet


async def test_anonymous_export_has_department_and_day_only(database):
    ids = await member_ids(database)
    survey = await create_survey(database, anonymous=True)
    await respond(database, survey, [value(5)], department="教务处", day=date(2026, 11, 20))
    await respond(database, survey, [value(3, "years")], day=date(2026, 11, 21))

    items = json.loads(await export(database, survey, "json", small_group=1))
    assert [list(item)[:2] for item in items] == [["department", "submitted_on"]] * 2
    assert {(i["department"], i["submitted_on"], i["overall"]) for i in items} == {
        ("教务处", "2026-11-20", 5),
        (None, "2026-11-21", None),
    }
    assert all("employee_id" not in i and "name" not in i for i in items)

    rows = list(
        csv.reader(io.StringIO((await export(database, survey, "csv")).decode("utf-8-sig")))
    )
    assert rows[0][:3] == ["department", "submitted_on", "canteen 最常吃什么？"]
    sheet = load_workbook(io.BytesIO(await export(database, survey, "xlsx"))).active
    assert [c.value for c in sheet[1]][:2] == ["department", "submitted_on"]
    assert not any(str(ids["T01"]) == str(c.value) for row in sheet.iter_rows() for c in row[:2])


async def test_anonymous_export_blanks_a_department_fewer_than_k_responses_share(database):
    survey = await create_survey(database, anonymous=True)
    for department, count in (("教务处", 5), ("外语学院", 4), (None, 1)):
        for i in range(count):
            await respond(database, survey, [value(1 + i % 5)], department=department)

    items = json.loads(await export(database, survey, "json", small_group=5))
    assert sorted(str(i["department"]) for i in items) == ["None"] * 5 + ["教务处"] * 5
    rows = list(
        csv.reader(
            io.StringIO((await export(database, survey, "csv", small_group=5)).decode("utf-8-sig"))
        )
    )
    assert sorted(row[0] for row in rows[1:]) == [""] * 5 + ["教务处"] * 5
    sheet = load_workbook(io.BytesIO(await export(database, survey, "xlsx", small_group=5))).active
    assert (
        sorted(str(row[0].value) for row in sheet.iter_rows(min_row=2))
        == ["None"] * 5 + ["教务处"] * 5
    )
    # k = 4: the four of 外语学院 are enough.
    items = json.loads(await export(database, survey, "json", small_group=4))
    assert [i["department"] for i in items].count("外语学院") == 4


async def test_named_export_keeps_every_department(database):
    # The row names the person anyway: the department hides nobody there.
    survey = await named_survey(database)
    items = json.loads(await export(database, survey, "json", small_group=5))
    assert [(i["name"], i["department"]) for i in items][1] == ("王五", "外语学院")


@pytest.mark.parametrize("anonymous", [False, True])
async def test_batches_cover_every_response_once_in_order(database, anonymous):
    ids = await member_ids(database) if not anonymous else {}
    survey = await create_survey(database, anonymous=anonymous)
    members = list(ids.values())
    for i in range(7):
        await respond(
            database,
            survey,
            [value(i, "years")],
            member_id=members[i] if i < len(members) else None,
            day=date(2026, 11, 10 + i % 3),
            at=None if anonymous else datetime(2026, 11, 10, i, tzinfo=UTC),
        )
    async with database.sessions() as session:
        batches = [
            b
            async for b in SurveyResultsRepository(session).iter_responses(survey.id, batch_size=3)
        ]
    assert [len(b) for b in batches] == [3, 3, 1]
    rows = [row for batch in batches for row in batch]
    years = [row.answers["years"][0].number for row in rows]
    assert sorted(years) == [float(i) for i in range(7)]
    if anonymous:
        assert all(
            r.name is None and r.employee_id is None and r.submitted_at is None for r in rows
        )
    else:
        assert years == [float(i) for i in range(7)]  # oldest first
        assert [r.employee_id for r in rows[:5]] == ["T01", "T02", "T03", "T04", "T05"]
        assert rows[5].employee_id is None  # responses of members no longer on file stay

    data = await export(database, survey, "csv", batch_size=2)
    assert len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))) == 8


async def test_empty_survey_exports_a_header_or_an_empty_list(database):
    survey = await create_survey(database, anonymous=True)
    assert json.loads(await export(database, survey, "json")) == []
    rows = list(
        csv.reader(io.StringIO((await export(database, survey, "csv")).decode("utf-8-sig")))
    )
    assert len(rows) == 1
    with pytest.raises(ValueError, match="unknown export format"):
        await export(database, survey, "pdf")


async def test_the_output_stream_is_left_open(database):
    survey = await create_survey(database, anonymous=True)
    await respond(database, survey, [value(1)])
    for fmt in ("csv", "xlsx", "json"):
        out = io.BytesIO()
        async with database.sessions() as session:
            assert await export_results(Repositories(session), survey, fmt, out) == 1
        assert not out.closed and out.getvalue()
