"""Raw survey responses as CSV, XLSX or JSON: one row per response, one column per question.

Named surveys: employee_id, name, department, submitted_at (union time zone). Anonymous
surveys: department and submitted_on only; the department is empty where it was not stored
(fewer than k people could answer) and where fewer than k responses share it, so a free text
never stands next to a department that points at a few people. Responses are read in batches
and written as they come, so memory does not grow with the survey.

Cells: a single choice is the option's Chinese text (or its key); a typed other choice is
"其他: text"; a multi-choice answer joins its choices with "; " (a list in JSON); numbers stay
numbers; skipped questions are empty (null in JSON).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, BinaryIO, Literal, Protocol
from zoneinfo import ZoneInfo

from common.tables import FORMULA_START, XLSX_ILLEGAL
from common.text import preview
from surveys.answering import OTHER
from surveys.definition import Question, QuestionType
from surveys.model import AnswerRow, ResponseExportRow
from surveys.ports import ResultsRepos

if TYPE_CHECKING:
    from surveys.service import SurveyInfo

Format = Literal["csv", "xlsx", "json"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx", "json")
EXPORT_LOCALE = "zh"
OTHER_PREFIX = "其他: "
MULTI_SEPARATOR = "; "
BATCH = 500
TITLE_LIMIT = 60  # characters of a question's text in its column title

Cell = str | int | float | date | datetime | list[str] | None


class _Writer(Protocol):
    def row(self, values: dict[str, Cell]) -> None: ...
    def close(self) -> None: ...


def columns(survey: SurveyInfo) -> list[tuple[str, str]]:
    """(key, title) of every column: JSON uses the keys, CSV and XLSX the titles."""
    fixed = (
        ["department", "submitted_on"]
        if survey.anonymous
        else ["employee_id", "name", "department", "submitted_at"]
    )
    return [(key, key) for key in fixed] + [
        (question.id, f"{question.id} {preview(question.text.get(EXPORT_LOCALE), TITLE_LIMIT)}")
        for question in survey.definition.questions
    ]


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def answer_cell(question: Question, rows: Sequence[AnswerRow]) -> Cell:
    """The value of one question in one response (None when it was not answered)."""
    if not rows:
        return None
    if question.type in (QuestionType.SINGLE, QuestionType.MULTI):
        texts = {option.key: option.text.get(EXPORT_LOCALE) for option in question.options}
        chosen = []
        for row in sorted(rows, key=lambda r: r.position):
            if row.option == OTHER and (row.text is not None or OTHER not in texts):
                chosen.append(OTHER_PREFIX + (row.text or ""))
            elif row.option is not None:
                chosen.append(texts.get(row.option, row.option))
        if question.type is QuestionType.MULTI:
            return chosen
        return chosen[0] if chosen else None
    if question.type is QuestionType.TEXT:
        return rows[0].text
    number = rows[0].number
    return None if number is None else _number(number)


def response_values(
    survey: SurveyInfo, response: ResponseExportRow, tz: ZoneInfo
) -> dict[str, Cell]:
    values: dict[str, Cell]
    if survey.anonymous:
        values = {"department": response.department, "submitted_on": response.submitted_on}
    else:
        submitted = response.submitted_at
        values = {
            "employee_id": response.employee_id,
            "name": response.name,
            "department": response.department,
            "submitted_at": submitted.astimezone(tz) if submitted else None,
        }
    for question in survey.definition.questions:
        values[question.id] = answer_cell(question, response.answers.get(question.id, []))
    return values


async def export_results(
    repos: ResultsRepos,
    survey: SurveyInfo,
    fmt: Format,
    out: BinaryIO,
    *,
    timezone: str = "Asia/Shanghai",
    small_group: int = 5,
    batch_size: int = BATCH,
) -> int:
    """Writes every response of the survey to `out` (left open); returns the number of rows.

    The caller checks that the person asking may see the responses (officers only).
    `small_group` is the k of the department rule: in anonymous surveys a department fewer
    than k responses share is left empty.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (use {', '.join(FORMATS)})")
    repo = repos.results
    tz = ZoneInfo(timezone)
    hidden: set[str | None] = set()
    if survey.anonymous:
        # Named responses carry the name anyway; here the department is the only pointer.
        hidden = {
            department
            for department, responses in (await repo.response_departments(survey.id)).items()
            if responses < small_group
        }
    writers: dict[str, Callable[[SurveyInfo, BinaryIO], _Writer]] = {
        "csv": _CsvWriter,
        "xlsx": _XlsxWriter,
        "json": _JsonWriter,
    }
    writer = writers[fmt](survey, out)
    count = 0
    async for batch in repo.iter_responses(survey.id, batch_size=batch_size):
        for response in batch:
            if response.department in hidden:
                response = replace(response, department=None)
            writer.row(response_values(survey, response, tz))
            count += 1
    writer.close()
    return count


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return MULTI_SEPARATOR.join(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class _CsvWriter:
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""

    def __init__(self, survey: SurveyInfo, out: BinaryIO) -> None:
        self.keys = [key for key, _ in columns(survey)]
        self.stream = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.stream)
        self.writer.writerow([title for _, title in columns(survey)])

    def row(self, values: dict[str, Cell]) -> None:
        self.writer.writerow([_defuse(values[key]) for key in self.keys])

    def close(self) -> None:
        self.stream.flush()
        self.stream.detach()  # leave `out` open for the caller


def _defuse(value: Cell) -> str:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    text = _text(value)
    if isinstance(value, str | list) and text.startswith(FORMULA_START):
        return "'" + text
    return text


class _XlsxWriter:
    """openpyxl in write-only mode (rows streamed to a temporary file, not kept in memory)."""

    def __init__(self, survey: SurveyInfo, out: BinaryIO) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        self.out = out
        self.cell = WriteOnlyCell
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(survey.slug[:31] or "responses")
        self.keys = [key for key, _ in columns(survey)]
        questions = {q.id: q for q in survey.definition.questions}
        for index, (key, title) in enumerate(columns(survey), start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = _width(
                key, title, questions.get(key)
            )
        self.sheet.freeze_panes = "A2"
        bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
        header = []
        for _, title in columns(survey):
            cell = self.cell(self.sheet, value=_xlsx_text(title))
            cell.font, cell.alignment = bold, wrap
            cell.data_type = "s"
            header.append(cell)
        self.sheet.append(header)

    def row(self, values: dict[str, Cell]) -> None:
        cells = []
        for key in self.keys:
            value = values[key]
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)  # already in the union's time zone
            if isinstance(value, list):
                value = MULTI_SEPARATOR.join(value)
            if isinstance(value, str):
                cell = self.cell(self.sheet, value=_xlsx_text(value))
                cell.data_type = "s"  # never a formula, whatever the text starts with
            else:
                # openpyxl writes dates too; its stubs leave `date` out of the value type.
                cell = self.cell(self.sheet, value)  # type: ignore[arg-type]  # stubs lack `date`
                if isinstance(value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm:ss"
                elif isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        self.sheet.append(cells)

    def close(self) -> None:
        self.workbook.save(self.out)


def _xlsx_text(text: str) -> str:
    return XLSX_ILLEGAL.sub("", text)


def _width(key: str, title: str, question: Question | None) -> float:
    if question is None:
        return {"submitted_at": 20, "submitted_on": 12, "department": 16}.get(key, 12)
    if question.type is QuestionType.TEXT:
        return 50
    if question.type in (QuestionType.SINGLE, QuestionType.MULTI):
        return 28
    return max(10, min(len(title) * 2, 24))


class _JsonWriter:
    """A JSON list of objects (keys: fixed columns and question ids), written as it goes."""

    def __init__(self, _survey: SurveyInfo, out: BinaryIO) -> None:
        self.out = out
        self.first = True
        out.write(b"[")

    def row(self, values: dict[str, Cell]) -> None:
        item = {
            key: value.isoformat() if isinstance(value, date | datetime) else value
            for key, value in values.items()
        }
        self.out.write(b"\n" if self.first else b",\n")
        self.out.write(json.dumps(item, ensure_ascii=False).encode("utf-8"))
        self.first = False

    def close(self) -> None:
        self.out.write(b"]\n" if self.first else b"\n]\n")
