"""The Excel/WPS workbook: the template's example and every ready-made survey import, a survey
round-trips XLSX → store → XLSX, and each bad input is refused at its sheet, row and column."""

from __future__ import annotations

import io
import tomllib
import zipfile
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook

from handlers.i18n import create_i18n
from storage.uow import unit_of_work
from surveys import library
from surveys.definition import parse_definition
from surveys.drafts import SurveyDrafts
from surveys.service import SurveyService
from surveys.tomlwriter import toml_string, write_definition
from surveys.workbook import (
    MAX_UNPACKED_BYTES,
    QUESTIONS_SHEET,
    SETTINGS_SHEET,
    WorkbookError,
    definition_workbook,
    workbook_to_toml,
)

TZ = ZoneInfo("Asia/Shanghai")


def template() -> bytes:
    return definition_workbook(library.template_definition(library.EXAMPLE, TZ), TZ)


def cells(data: bytes) -> dict[str, list[list[Any]]]:
    workbook = load_workbook(io.BytesIO(data))
    return {
        sheet.title: [[cell.value for cell in row] for row in sheet.iter_rows()]
        for sheet in workbook.worksheets
    }


def edited(change: Callable[[Any], None], data: bytes | None = None) -> bytes:
    workbook = load_workbook(io.BytesIO(data or template()))
    change(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def problems(data: bytes, filename: str = "survey.xlsx") -> list[str]:
    with pytest.raises(WorkbookError) as caught:
        workbook_to_toml(data, filename, TZ)
    return caught.value.render()


# -- good workbooks ---------------------------------------------------------------------------


def test_the_templates_own_example_imports() -> None:
    source = workbook_to_toml(template(), "survey-template.xlsx", TZ)
    definition = parse_definition(source, "x.toml", TZ)
    assert definition == library.template_definition(library.EXAMPLE, TZ)
    assert [q.type.value for q in definition.questions] == [
        "scale",
        "text",
        "multi",
        "single",
        "number",
        "nps",
    ]
    assert definition.questions[1].show_if == "q1 <= 2"


def test_the_template_explains_itself_in_chinese_and_english() -> None:
    sheets = cells(template())
    assert list(sheets) == [SETTINGS_SHEET, QUESTIONS_SHEET, "填写说明 Help"]
    help_text = "\n".join(str(row[0]) for row in sheets["填写说明 Help"])
    assert "合并单元格" in help_text and "No merged cells" in help_text
    questions = load_workbook(io.BytesIO(template())).worksheets[1]
    assert "single" in questions["B1"].comment.text and "单选" in questions["B1"].comment.text


@pytest.mark.parametrize("name", library.TEMPLATES)
def test_each_ready_made_survey_survives_the_workbook(name: str) -> None:
    definition = library.template_definition(name, TZ)
    assert definition.title.get("zh") and definition.title.get("en") != definition.title.get("zh")
    workbook = definition_workbook(definition, TZ)
    again = parse_definition(workbook_to_toml(workbook, f"{name}.xlsx", TZ), "x.toml", TZ)
    assert again == definition
    assert cells(definition_workbook(again, TZ)) == cells(workbook)


async def test_round_trip_xlsx_store_xlsx(database) -> None:
    original = edited(
        lambda book: book.worksheets[0].cell(row=9, column=2, value="2099-12-07 08:00")
    )
    async with unit_of_work(database.sessions) as repos:
        drafts = SurveyDrafts(SurveyService(repos), repos)
        survey, created = await drafts.import_workbook(original, "survey.xlsx")
        assert created and survey.status == "draft"
        exported = await drafts.export_definition(survey.slug, "xlsx")
        toml = await drafts.export_definition(survey.slug, "toml")
    assert tomllib.loads(toml.decode())["id"] == "example-2026"
    before, after = cells(original), cells(exported)
    assert before[SETTINGS_SHEET][8][1] == "2099-12-07 08:00"
    assert str(after[SETTINGS_SHEET][8][1]) == "2099-12-07 08:00:00"  # now a real date cell
    before[SETTINGS_SHEET][8][1] = after[SETTINGS_SHEET][8][1]
    assert after == before
    async with unit_of_work(database.sessions) as repos:  # the export imports as it is
        drafts = SurveyDrafts(SurveyService(repos), repos)
        _survey, created = await drafts.import_workbook(exported, "again.xlsx")
        assert not created


async def test_ready_made_surveys_become_drafts_of_their_own(database) -> None:
    async with unit_of_work(database.sessions) as repos:
        drafts = SurveyDrafts(SurveyService(repos), repos)
        made = [await drafts.from_template(name) for name in (*library.TEMPLATES, "needs")]
    assert all(s.status == "draft" for s in made)
    slugs = [s.slug for s in made]
    assert len(set(slugs)) == 6 and slugs[-1] == slugs[1] + "-2"


def test_chinese_and_english_headers_and_words_are_both_read() -> None:
    book = Workbook()
    settings = book.active
    settings.title = "Settings"
    for row in (["key", "value"], ["id", "canteen"], ["title", "Canteen"], ["anonymous", "yes"]):
        settings.append(row)
    settings.append(["对象/audience", "机电学院；工会干部"])
    settings.append(["提醒", "1天;3小时"])
    settings.append(["截止", "2099/12/14 18:00"])
    questions = book.create_sheet("Questions")
    questions.append(["type", "text", "options", "show_if", "题目 英文/text_en"])
    questions.append(["single", "好吃吗", "好吃\n一般\n不好吃", None, "Tasty?"])
    questions.append(["填空", "为什么", None, 'q1 == "不好吃"', None])
    buffer = io.BytesIO()
    book.save(buffer)
    definition = parse_definition(workbook_to_toml(buffer.getvalue(), "x.xlsx", TZ), "x", TZ)
    assert definition.audience == ("机电学院", "officer")
    assert [r.total_seconds() for r in definition.reminders] == [86400, 10800]
    assert [q.id for q in definition.questions] == ["q1", "q2"]
    assert definition.questions[0].option_keys() == ["好吃", "一般", "不好吃"]
    assert definition.questions[0].text.get("en") == "Tasty?"


def test_text_that_looks_like_a_formula_stays_text() -> None:
    definition = library.template_definition(library.EXAMPLE, TZ)
    raw = tomllib.loads(library.template_source(library.EXAMPLE))
    raw["questions"][0]["text"] = "=SUM(A1) 不是公式"
    source, _lines = write_definition(raw)
    definition = parse_definition(source, "x", TZ)
    again = parse_definition(
        workbook_to_toml(definition_workbook(definition, TZ), "x.xlsx", TZ), "x", TZ
    )
    assert again.questions[0].text.get("zh") == "=SUM(A1) 不是公式"


@pytest.mark.parametrize(
    "text", ['a"b', "back\\slash", "two\nlines", "tab\there", "del\x7f", "中文"]
)
def test_toml_strings_round_trip(text: str) -> None:
    assert tomllib.loads(f"value = {toml_string(text)}")["value"] == text


# -- bad input, each at its place ---------------------------------------------------------------


def test_empty_workbook() -> None:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    assert problems(buffer.getvalue()) == ["The workbook is empty."]


def test_missing_sheet() -> None:
    only_settings = edited(lambda book: book.remove(book.worksheets[1]))
    (problem,) = problems(only_settings)
    assert "second sheet" in problem and "Questions" in problem


def test_merged_cells() -> None:
    merged = edited(lambda book: book.worksheets[1].merge_cells("C2:D2"))
    assert problems(merged) == [
        f"Sheet “{QUESTIONS_SHEET}”, row 2, column C: Merged cells C2:D2: please unmerge them, "
        "one value per cell."
    ]


def test_formula_in_a_cell() -> None:
    formula = edited(lambda book: book.worksheets[1].cell(row=3, column=12, value="=10*50"))
    assert problems(formula) == [
        f"Sheet “{QUESTIONS_SHEET}”, row 3, column L: "
        "This cell holds a formula; please type the value itself."
    ]


def test_question_row_without_text() -> None:
    def clear(book: Any) -> None:
        book.worksheets[1]["C4"].value = None

    no_text = edited(clear)
    assert f"Sheet “{QUESTIONS_SHEET}”, row 4: The question has no text." in problems(no_text)


def test_unknown_type() -> None:
    unknown = edited(lambda book: book.worksheets[1].cell(row=2, column=2, value="选择题"))
    (problem,) = problems(unknown)
    assert problem.startswith(f"Sheet “{QUESTIONS_SHEET}”, row 2, column B (题型/type): ")
    assert "Unknown question type “选择题”" in problem


def test_options_on_a_text_question() -> None:
    options = edited(lambda book: book.worksheets[1].cell(row=3, column=4, value="甲;乙"))
    assert problems(options) == [
        f"Sheet “{QUESTIONS_SHEET}”, row 3, column D (选项/options): "
        "This column does not apply to a 填空 question; leave it empty."
    ]


def test_show_if_that_refers_forward() -> None:
    forward = edited(lambda book: book.worksheets[1].cell(row=3, column=13, value="q5 > 3"))
    assert problems(forward) == [
        f"Sheet “{QUESTIONS_SHEET}”, row 3, column M (显示条件/show_if): "
        "The condition may use only earlier questions; “q5” comes later."
    ]


def test_a_problem_found_by_the_definition_parser_is_located_too() -> None:
    duplicate = edited(lambda book: book.worksheets[1].cell(row=4, column=1, value="q1"))
    (problem,) = problems(duplicate)
    assert problem.startswith(f"Sheet “{QUESTIONS_SHEET}”, row 4, column A (题号/id): ")
    assert "used twice" in problem
    bad_setting = edited(lambda book: book.worksheets[0].cell(row=2, column=2, value="Bad Id!"))
    (problem,) = problems(bad_setting)
    assert problem.startswith(f"Sheet “{SETTINGS_SHEET}”, row 2, column B: id must be a slug")


def test_values_of_the_wrong_kind() -> None:
    wrong = edited(lambda book: book.worksheets[1].cell(row=6, column=8, value="零"))
    assert problems(wrong) == [
        f"Sheet “{QUESTIONS_SHEET}”, row 6, column H (最小/min): Please write a number, not “零”."
    ]


def test_problems_are_told_in_the_officers_language() -> None:
    with pytest.raises(WorkbookError) as caught:
        workbook_to_toml(
            edited(lambda book: book.worksheets[1].cell(row=2, column=2, value="选择题")),
            "x.xlsx",
            TZ,
        )
    i18n = create_i18n("zh")
    with i18n.context(), i18n.use_locale("zh"):
        (problem,) = caught.value.render(i18n.gettext)
    assert problem.startswith(f"工作表“{QUESTIONS_SHEET}”第 2 行 B (题型/type) 列：无法识别的题型")


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        ("survey.xlsx", b"PK\x03\x04" + b"\0" * (20 * 1024 * 1024), "The file is 20.0 MB"),
        ("名单.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "old-format Excel"),
        ("survey.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "not an Excel"),
        ("问卷.csv", "题号,题型\n".encode("utf-8-sig"), "CSV file"),
        ("通知.docx", _zip({"word/document.xml": b"<w/>"}), "Word document"),
        ("通知.xlsx", _zip({"word/document.xml": b"<w/>"}), "Word document"),
        ("survey.xlsx", b"PK\x03\x04 not really a zip", "damaged"),
        ("survey.xlsx", b"id = 'x'", "not an Excel"),
    ],
)
def test_wrong_files_are_named(filename: str, content: bytes, expected: str) -> None:
    (problem,) = problems(content, filename)
    assert expected in problem


def test_zip_bomb_is_refused_before_anything_unpacks_it(monkeypatch) -> None:
    import openpyxl

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("openpyxl must not open a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    bomb = _zip(
        {"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"\0" * MAX_UNPACKED_BYTES}
    )
    assert len(bomb) < 100_000
    (problem,) = problems(bomb)
    assert "unpacks to more than" in problem
