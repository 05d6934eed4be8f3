# Longer than 400 lines on purpose: reading and writing the Excel workbook format together, so the
# two directions cannot drift apart.
"""Surveys as an Excel/WPS workbook: the template, import, and export of a definition.

The first sheet holds the settings (key, value), the second one question per row. An import
turns the workbook into the same dict the TOML loader produces, writes it as TOML and runs the
one definition parser on it: the same validation, and what is stored is TOML as before.
Problems name the sheet, the row and the column; nothing is stored while there is one.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

from common.errors import N_
from members.roster import role_from_name
from surveys import expressions
from surveys.definition import (
    DefinitionError,
    Question,
    QuestionType,
    SurveyDefinition,
    Text,
    parse_definition,
)
from surveys.tomlwriter import KeyPath, write_definition

MAX_WORKBOOK_BYTES = 2 * 1024 * 1024  # a survey workbook is a few dozen kilobytes
MAX_UNPACKED_BYTES = 20 * 1024 * 1024  # zip bombs: checked before openpyxl unpacks anything
MAX_ZIP_ENTRIES = 300
MAX_QUESTIONS = 200
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

SETTINGS_SHEET = "设置 Settings"
QUESTIONS_SHEET = "题目 Questions"
HELP_SHEET = "填写说明 Help"
YES, NO = "是", "否"
_YES = {"是", "y", "yes", "true", "1", "√", "✓", "对", "必答", "必填"}
_NO = {"否", "n", "no", "false", "0", "×", "不", "不是", "选答", "选填"}
_SPLIT = re.compile(r"[;；]")
_HEADER_TOKENS = re.compile(r"[/／()（）\s]+")
_DURATION = re.compile(r"^(\d+)\s*(d|h|m|天|日|小时|时|分钟|分)$", re.IGNORECASE)
_UNITS = {"d": "d", "天": "d", "日": "d", "h": "h", "小时": "h", "时": "h", "m": "m"}
_UNITS |= {"分钟": "m", "分": "m"}
_ALL = {"all", "全体", "全部", "所有人", "全体会员", "全体教职工"}

TYPE_NAMES = {
    QuestionType.SINGLE: "单选",
    QuestionType.MULTI: "多选",
    QuestionType.SCALE: "量表",
    QuestionType.NPS: "NPS",
    QuestionType.TEXT: "填空",
    QuestionType.NUMBER: "数字",
}
_TYPES = {name.lower(): kind for kind, name in TYPE_NAMES.items()}
_TYPES |= {kind.value: kind for kind in QuestionType}
_TYPES |= {"评分": QuestionType.SCALE, "打分": QuestionType.SCALE, "推荐": QuestionType.NPS}
_TYPES |= {"文本": QuestionType.TEXT, "问答": QuestionType.TEXT, "数值": QuestionType.NUMBER}


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    aliases: frozenset[str]
    note: str  # shown as a comment on the header: the template explains itself
    width: int = 12


def _column(key: str, header: str, *extra: str, note: str, width: int = 12) -> Column:
    aliases = frozenset(t.lower() for t in (*_HEADER_TOKENS.split(header), key, *extra) if t)
    return Column(key, header, aliases, note, width)


QUESTION_COLUMNS = (
    _column("id", "题号/id", "编号", note="字母开头，如 q1；显示条件用它。\nStarts with a letter."),
    _column(
        "type",
        "题型/type",
        note="单选 single · 多选 multi · 量表 scale · NPS · 填空 text · 数字 number",
    ),
    _column("text", "题目/text", "问题", "question", note="题目（中文）。Question text.", width=40),
    _column(
        "options",
        "选项/options",
        note="单选、多选题：每行一个，或用 ; 分隔。\nSingle/multi: one per line or separated by ;",
        width=30,
    ),
    _column("required", "必答/required", "必填", note="是/否，默认 是。Yes/no (default yes)."),
    _column("max_choices", "最多选/max_choices", note="多选题最多选几项。Multi: most choices."),
    _column("other", "其他/other", note="是：加“其他…”并可填写。Yes adds “Other…” with text."),
    _column("min", "最小/min", "最小值", note="量表或数字的最小值。Scale/number minimum."),
    _column("max", "最大/max", "最大值", note="量表或数字的最大值。Scale/number maximum."),
    _column("integer", "整数/integer", note="数字题只收整数：是/否。Number: whole numbers only."),
    _column(
        "labels", "标签/labels", note="量表两端：低;高，如 很不满意;很满意。Scale ends: low;high"
    ),
    _column("max_length", "字数上限/max_length", note="填空题字数上限（默认 1000）。Text limit."),
    _column(
        "show_if",
        "显示条件/show_if",
        note='只在条件成立时显示，只能引用前面的题，如 q1 <= 2 或 q3 == "其他"。\n'
        "Shown only when true; refers to earlier questions only.",
        width=20,
    ),
    _column("text_en", "英文题目/text_en", note="可选：英文题目。Optional English text.", width=30),
    _column("options_en", "英文选项/options_en", note="可选：英文选项，顺序同上。", width=24),
    _column("labels_en", "英文标签/labels_en", note="可选：英文两端标签。Optional."),
    _column(
        "option_keys",
        "选项代码/option_keys",
        "keys",
        note="可选：保存用的选项代码，顺序同选项。Optional stored keys, in option order.",
    ),
)
SETTINGS_ROWS = (
    _column("id", "id", "编号", note="问卷编号：小写字母、数字、- 或 _，如 canteen-2026"),
    _column("title", "标题/title", note="问卷标题（中文）。Title."),
    _column("title_en", "英文标题/title_en", note="可选：英文标题。Optional English title."),
    _column("description", "说明/description", note="开始前显示的说明。Shown before starting."),
    _column("description_en", "英文说明/description_en", note="可选。Optional."),
    _column("anonymous", "匿名/anonymous", note="是：不记录姓名。Yes: answers carry no name."),
    _column(
        "audience",
        "对象/audience",
        "调查对象",
        note="all（全体），或部门、角色，用 ; 分隔。all, or departments/roles separated by ;",
    ),
    _column("opens_at", "开始/opens_at", "开始时间", note="如 2026-12-07 08:00；可留空。"),
    _column("closes_at", "截止/closes_at", "截止时间", note="如 2026-12-14 18:00；可留空。"),
    _column("reminders", "提醒/reminders", note="截止前提醒，如 1d;3h（1天;3小时）"),
)
_SETTINGS_HEADER = {"项目", "key", "设置"}
_CHOICE = {QuestionType.SINGLE, QuestionType.MULTI}
_SCALES = {QuestionType.SCALE, QuestionType.NPS}
# Which columns each type may use; anything else filled in is a mistake worth naming.
_APPLIES: dict[str, set[QuestionType]] = {
    "options": _CHOICE,
    "options_en": _CHOICE,
    "option_keys": _CHOICE,
    "other": _CHOICE,
    "max_choices": {QuestionType.MULTI},
    "min": {QuestionType.SCALE, QuestionType.NUMBER},
    "max": {QuestionType.SCALE, QuestionType.NUMBER},
    "integer": {QuestionType.NUMBER},
    "labels": _SCALES,
    "labels_en": _SCALES,
    "max_length": {QuestionType.TEXT},
}


# -- problems -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong, where it is. `message` is a gettext id; `detail` is the definition
    parser's own (English) sentence when the problem came from there."""

    message: str | None
    params: Mapping[str, Any] = field(default_factory=dict)
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    detail: str | None = None

    def render(self, gettext: Callable[[str], str] = lambda s: s) -> str:
        problem = gettext(self.message).format(**self.params) if self.message else self.detail or ""
        if self.sheet is None:
            return problem
        if self.row is None:
            return gettext("Sheet “{sheet}”: {problem}").format(sheet=self.sheet, problem=problem)
        if self.column is None:
            return gettext("Sheet “{sheet}”, row {row}: {problem}").format(
                sheet=self.sheet, row=self.row, problem=problem
            )
        return gettext("Sheet “{sheet}”, row {row}, column {column}: {problem}").format(
            sheet=self.sheet, row=self.row, column=self.column, problem=problem
        )


class WorkbookError(ValueError):
    """The workbook cannot become a survey; nothing was stored."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(p.render() for p in problems))
        self.problems = problems

    def render(self, gettext: Callable[[str], str] = lambda s: s) -> list[str]:
        return [problem.render(gettext) for problem in self.problems]


# -- the file itself ------------------------------------------------------------------------

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .doc, WPS .et
_ZIP = b"PK\x03\x04"


def check_size(size: int) -> None:
    """Before downloading: a file this large is no survey workbook."""
    if size > MAX_WORKBOOK_BYTES:
        raise WorkbookError(
            [
                Problem(
                    N_("The file is {size} MB; a survey workbook may be at most {limit} MB."),
                    {
                        "size": f"{size / 1024 / 1024:.1f}",
                        "limit": MAX_WORKBOOK_BYTES // 1024 // 1024,
                    },
                )
            ]
        )


def check_upload(data: bytes, filename: str) -> None:
    """Refuse what is not a small .xlsx before anything unpacks it: by size, extension and
    magic bytes, then by the unpacked size the zip directory announces (zip bombs)."""
    suffix = PurePath(filename).suffix.lower()
    check_size(len(data))
    word = N_("This is a Word document, not the survey workbook (.xlsx).")
    old_excel = N_(
        "This is an old-format Excel file (.xls). In Excel or WPS choose Save as → "
        "Excel workbook (.xlsx) and send that file."
    )
    if suffix in (".doc", ".docx"):
        raise _wrong_file(word)
    if suffix in (".xls", ".et") or (data.startswith(_OLE2) and suffix != ".xlsx"):
        raise _wrong_file(old_excel)
    if suffix == ".csv":
        raise _wrong_file(
            N_("This is a CSV file. A survey needs the Excel template (.xlsx) filled in.")
        )
    if not data.startswith(_ZIP):
        raise _wrong_file(N_("This is not an Excel workbook (.xlsx)."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise _wrong_file(N_("The file is damaged or is not an Excel workbook (.xlsx).")) from None
    names = {entry.filename for entry in entries}
    if "word/document.xml" in names:
        raise _wrong_file(word)
    if "xl/workbook.xml" not in names or suffix not in ("", ".xlsx"):
        raise _wrong_file(N_("This is not an Excel workbook (.xlsx)."))
    if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_UNPACKED_BYTES:
        raise WorkbookError(
            [
                Problem(
                    N_("The workbook unpacks to more than {limit} MB; it cannot be a survey."),
                    {"limit": MAX_UNPACKED_BYTES // 1024 // 1024},
                )
            ]
        )


def _wrong_file(message: str) -> WorkbookError:
    return WorkbookError([Problem(message)])


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    sheet: str
    row: int
    column: str | None = None


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.places: dict[KeyPath, Place] = {}

    def problem(self, place: Place, message: str, **params: Any) -> None:
        self.problems.append(Problem(message, params, place.sheet, place.row, place.column))

    # -- cell values
    def yes_no(self, value: Any, place: Place) -> bool | None:
        if isinstance(value, bool):
            return value
        text = _text(value).lower()
        if text in _YES:
            return True
        if text in _NO:
            return False
        self.problem(place, N_("Please write 是 or 否 (yes or no), not “{value}”."), value=text)
        return None

    def number(self, value: Any, place: Place, *, whole: bool = False) -> int | float | None:
        if isinstance(value, bool):
            value = _text(value)
        if isinstance(value, str):
            try:
                value = float(value.strip().replace("，", "."))
            except ValueError:
                self.problem(place, N_("Please write a number, not “{value}”."), value=value)
                return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # Excel stores 5 as 5.0
        if whole and not isinstance(value, int):
            self.problem(place, N_("Please write a whole number, not “{value}”."), value=value)
            return None
        return value if isinstance(value, int | float) else None

    def moment(self, value: Any, place: Place) -> datetime | None:
        if isinstance(value, datetime):
            return value.replace(microsecond=0)
        if isinstance(value, date):
            return datetime.combine(value, time.min)
        text = _text(value).replace("/", "-").replace("T", " ")
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            self.problem(
                place,
                N_("Please write a date and time such as 2026-12-07 08:00, not “{value}”."),
                value=_text(value),
            )
            return None

    def reminders(self, value: Any, place: Place) -> list[str]:
        result = []
        for token in _tokens(_text(value), re.compile(r"[;；,，、\s]+")):
            match = _DURATION.match(token)
            if match is None:
                self.problem(
                    place,
                    N_("“{value}” is not a reminder such as 1d, 3h or 30m (1天, 3小时)."),
                    value=token,
                )
                continue
            result.append(f"{match.group(1)}{_UNITS[match.group(2).lower()]}")
        return result


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _tokens(text: str, separator: re.Pattern[str] = _SPLIT) -> list[str]:
    return [token.strip() for token in separator.split(text) if token.strip()]


def _options(value: Any) -> list[str]:
    text = _text(value)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines if len(lines) > 1 else _tokens(text)


def _header_tokens(value: Any) -> set[str]:
    return {t.lower() for t in _HEADER_TOKENS.split(_text(value)) if t}


def _match(value: Any, columns: Iterable[Column]) -> Column | None:
    tokens = _header_tokens(value)
    return next((c for c in columns if tokens & c.aliases), None) if tokens else None


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _column_name(letter: str, column: Column) -> str:
    return f"{letter} ({column.header})"


def _with_en(main: str, english: str) -> str | dict[str, str]:
    return {"zh": main, "en": english} if english else main


def read_workbook(data: bytes, filename: str = "survey.xlsx") -> tuple[dict[str, Any], _Reader]:
    """The definition dict a TOML file would give, and where each value came from."""
    check_upload(data, filename)
    import openpyxl  # lazy: slow to import, and only this path needs it

    try:
        # Not read-only: merged cells are only known to a fully loaded sheet. The size was
        # bounded above, so loading it whole is safe.
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except Exception:  # openpyxl raises many types for corrupt or foreign files
        raise _wrong_file(N_("The file is damaged or is not an Excel workbook (.xlsx).")) from None
    sheets = workbook.worksheets
    reader = _Reader()
    if not any(
        cell.value is not None for sheet in sheets for row in sheet.iter_rows() for cell in row
    ):
        raise _wrong_file(N_("The workbook is empty."))
    settings = _find_sheet(sheets, ("设置", "settings"), 0)
    questions = _find_sheet(sheets, ("题目", "questions"), 1)
    if settings is None:
        reader.problems.append(
            Problem(N_("The first sheet, with the survey's settings (设置 Settings), is missing."))
        )
    if questions is None or questions is settings:
        reader.problems.append(
            Problem(N_("The second sheet, with the questions (题目 Questions), is missing."))
        )
    if reader.problems:
        raise WorkbookError(reader.problems)
    assert settings is not None and questions is not None
    for sheet in (settings, questions):
        _check_cells(sheet, reader)
    if reader.problems:  # values of merged or computed cells are not what the officer sees
        raise WorkbookError(reader.problems)
    raw = _read_settings(settings, reader)
    raw["questions"] = _read_questions(questions, reader)
    if reader.problems:
        raise WorkbookError(reader.problems)
    return raw, reader


def _find_sheet(sheets: list[Any], names: tuple[str, ...], position: int) -> Any | None:
    for sheet in sheets:
        if any(name in sheet.title.lower() for name in names):
            return sheet
    known = ("设置", "settings", "题目", "questions", "说明", "help")
    unnamed = [s for s in sheets if not any(n in s.title.lower() for n in known)]
    # Renamed sheets: fall back to the position the template gives them.
    return sheets[position] if position < len(sheets) and sheets[position] in unnamed else None


def _check_cells(sheet: Any, reader: _Reader) -> None:
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    for merged in sheet.merged_cells.ranges:
        reader.problem(
            Place(sheet.title, merged.min_row, _letter(merged.min_col)),
            N_("Merged cells {cells}: please unmerge them, one value per cell."),
            cells=merged.coord,
        )
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f" or isinstance(cell.value, ArrayFormula | DataTableFormula):
                reader.problem(
                    Place(sheet.title, cell.row, cell.column_letter),
                    N_("This cell holds a formula; please type the value itself."),
                )


def _read_settings(sheet: Any, reader: _Reader) -> dict[str, Any]:
    values: dict[str, tuple[Any, Place]] = {}
    for row in sheet.iter_rows(max_col=2):
        key_cell = row[0]
        value = row[1].value if len(row) > 1 else None
        if key_cell.value is None and value is None:
            continue
        if _header_tokens(key_cell.value) & _SETTINGS_HEADER:
            continue
        column = _match(key_cell.value, SETTINGS_ROWS)
        place = Place(sheet.title, key_cell.row, "B")
        if column is None:
            reader.problem(
                Place(sheet.title, key_cell.row, "A"),
                N_("Unknown setting “{key}”."),
                key=_text(key_cell.value),
            )
            continue
        if value is not None and _text(value):
            values[column.key] = (value, place)
        reader.places.setdefault(("top", column.key.removesuffix("_en")), place)
    raw: dict[str, Any] = {}
    text = {k: _text(v) for k, (v, _place) in values.items()}
    if "id" in values:
        raw["id"] = text["id"]
    if "title" in values:
        raw["title"] = _with_en(text["title"], text.get("title_en", ""))
    if "description" in values:
        raw["description"] = _with_en(text["description"], text.get("description_en", ""))
    if "anonymous" in values:
        anonymous = reader.yes_no(*values["anonymous"])
        if anonymous is not None:
            raw["anonymous"] = anonymous
    if "audience" in values:
        audience = []
        for token in _tokens(text["audience"], re.compile(r"[;；,，、]")):
            role = role_from_name(token)
            audience.append("all" if token.lower() in _ALL else role.value if role else token)
        raw["audience"] = audience
    for key in ("opens_at", "closes_at"):
        if key in values:
            moment = reader.moment(*values[key])
            if moment is not None:
                raw[key] = moment
    if "reminders" in values:
        raw["reminders"] = reader.reminders(*values["reminders"])
    return raw


def _read_questions(sheet: Any, reader: _Reader) -> list[dict[str, Any]]:
    rows = list(sheet.iter_rows())
    if not rows:
        reader.problem(Place(sheet.title, 1), N_("There are no questions: add one row each."))
        return []
    columns: dict[int, Column] = {}
    for cell in rows[0]:
        if cell.value is None:
            continue
        column = _match(cell.value, QUESTION_COLUMNS)
        if column is None:
            reader.problem(
                Place(sheet.title, 1, cell.column_letter),
                N_("Unknown column “{header}”."),
                header=_text(cell.value),
            )
        else:
            columns[cell.column - 1] = column
    for needed in ("type", "text"):
        if needed not in {c.key for c in columns.values()}:
            header = next(c.header for c in QUESTION_COLUMNS if c.key == needed)
            reader.problem(
                Place(sheet.title, 1), N_("The column “{header}” is missing."), header=header
            )
    if reader.problems:
        return []
    records: list[tuple[int, dict[str, tuple[Any, Place]]]] = []
    for row in rows[1:]:
        record = {
            columns[cell.column - 1].key: (
                cell.value,
                Place(
                    sheet.title,
                    cell.row,
                    _column_name(cell.column_letter, columns[cell.column - 1]),
                ),
            )
            for cell in row
            if cell.column - 1 in columns and _text(cell.value)
        }
        if record:
            records.append((row[0].row, record))
    if not records:
        reader.problem(Place(sheet.title, 2), N_("There are no questions: add one row each."))
        return []
    if len(records) > MAX_QUESTIONS:
        reader.problem(
            Place(sheet.title, records[MAX_QUESTIONS][0]),
            N_("Too many rows: at most {limit} questions."),
            limit=MAX_QUESTIONS,
        )
        return []
    ids = [
        _text(record["id"][0]) if "id" in record else f"q{index}"
        for index, (_row, record) in enumerate(records, start=1)
    ]
    return [
        _read_question(index, number, record, ids, sheet.title, reader)
        for index, (number, record) in enumerate(records)
    ]


def _read_question(
    index: int,
    number: int,
    record: dict[str, tuple[Any, Place]],
    ids: list[str],
    sheet: str,
    reader: _Reader,
) -> dict[str, Any]:
    row = Place(sheet, number)
    reader.places[("question", index, None)] = row
    for key, (_value, place) in record.items():
        base = "options" if key == "option_keys" else key.removesuffix("_en")
        if base == key or base not in record:  # the main column, when there is one
            reader.places[("question", index, base)] = place
    text = {key: _text(value) for key, (value, _place) in record.items()}
    raw: dict[str, Any] = {"id": ids[index]}
    kind: QuestionType | None = None
    if "type" not in record:
        reader.problem(row, N_("The question type is missing."))
    else:
        kind = _TYPES.get(text["type"].lower())
        if kind is None:
            reader.problem(
                record["type"][1],
                N_(
                    "Unknown question type “{value}”: use 单选/single, 多选/multi, 量表/scale, "
                    "NPS, 填空/text or 数字/number."
                ),
                value=text["type"],
            )
        else:
            raw["type"] = kind.value
    if "text" not in record:
        reader.problem(row, N_("The question has no text."))
    else:
        raw["text"] = _with_en(text["text"], text.get("text_en", ""))
    if kind is not None:
        for key, (_value, place) in record.items():
            if key in _APPLIES and kind not in _APPLIES[key]:
                reader.problem(
                    place,
                    N_("This column does not apply to a {type} question; leave it empty."),
                    type=TYPE_NAMES[kind],
                )
    if "options" in record:
        raw["options"] = _read_options(record, text, reader)
    for key in ("required", "other", "integer"):
        if key in record:
            flag = reader.yes_no(*record[key])
            if flag is not None:
                raw[key] = flag
    for key in ("max_choices", "max_length", "min", "max"):
        if key in record:
            value = reader.number(*record[key], whole=key.startswith("max_"))
            if value is not None:
                raw[key] = value
    if "labels" in record:
        raw["labels"] = _read_labels(record, text, reader)
    if "show_if" in record:
        raw["show_if"] = text["show_if"]
        _check_condition(text["show_if"], ids, index, record["show_if"][1], reader)
    return raw


def _read_options(
    record: dict[str, tuple[Any, Place]], text: dict[str, str], reader: _Reader
) -> list[Any]:
    options = _options(text["options"])
    english = _options(text.get("options_en", ""))
    keys = _options(text.get("option_keys", ""))
    for extra, name in ((english, "options_en"), (keys, "option_keys")):
        if extra and len(extra) != len(options):
            reader.problem(
                record[name][1],
                N_("{count} given here for {expected} options: one for each option, in order."),
                count=len(extra),
                expected=len(options),
            )
    result: list[Any] = []
    for position, option in enumerate(options):
        item: dict[str, str] = {}
        if keys and len(keys) == len(options) and keys[position] != option:
            item["key"] = keys[position]
        item["zh"] = option
        if english and len(english) == len(options):
            item["en"] = english[position]
        result.append(item if len(item) > 1 else option)
    return result


def _read_labels(
    record: dict[str, tuple[Any, Place]], text: dict[str, str], reader: _Reader
) -> dict[str, Any]:
    low_high = _tokens(text["labels"])
    english = _tokens(text.get("labels_en", ""))
    if len(low_high) != 2 or (english and len(english) != 2):
        place = record["labels" if len(low_high) != 2 else "labels_en"][1]
        reader.problem(place, N_("Write the two ends as low;high, for example 很不满意;很满意."))
        return {}
    if english:
        return {
            "min": {"zh": low_high[0], "en": english[0]},
            "max": {"zh": low_high[1], "en": english[1]},
        }
    return {"min": low_high[0], "max": low_high[1]}


def _check_condition(
    source: str, ids: list[str], index: int, place: Place, reader: _Reader
) -> None:
    try:
        node = expressions.parse(source)
    except expressions.ExpressionError as exc:
        reader.problem(place, N_("The condition cannot be read: {error}"), error=str(exc))
        return
    for name in sorted(expressions.references(node) - set(ids[:index])):
        if name in ids[index:]:
            reader.problem(
                place,
                N_("The condition may use only earlier questions; “{name}” comes later."),
                name=name,
            )
        else:
            reader.problem(
                place, N_("The condition uses “{name}”, which is no question's id."), name=name
            )


def workbook_to_toml(data: bytes, filename: str = "survey.xlsx", tz: ZoneInfo | None = None) -> str:
    """The workbook as TOML, validated by the definition parser; WorkbookError if anything
    is wrong, each problem at its sheet, row and column."""
    raw, reader = read_workbook(data, filename)
    source, lines = write_definition(raw)
    try:
        parse_definition(source, filename, tz)
    except DefinitionError as exc:
        raise WorkbookError(
            [_locate(problem, filename, lines, reader.places) for problem in exc.problems]
        ) from None
    return source


def _locate(
    problem: str, filename: str, lines: dict[int, KeyPath], places: dict[KeyPath, Place]
) -> Problem:
    match = re.match(rf"^{re.escape(filename)}:(\d+): (.*)$", problem, re.DOTALL)
    if match is None:
        return Problem(None, detail=problem.removeprefix(f"{filename}: "))
    path = lines.get(int(match.group(1)))
    place = places.get(path) if path else None
    if place is None and path and path[0] == "question":
        place = places.get(("question", path[1], None))
    detail = match.group(2)
    if place is None:
        return Problem(None, detail=detail)
    return Problem(None, sheet=place.sheet, row=place.row, column=place.column, detail=detail)


# -- writing ----------------------------------------------------------------------------------


def _zh_en(text: Text | None) -> tuple[str, str]:
    if text is None:
        return "", ""
    main = text.values.get("zh") or next(iter(text.values.values()))
    english = text.values.get("en", "") if "zh" in text.values else ""
    return main, english


def _plain(value: float | None) -> Any:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _duration(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def _settings_values(definition: SurveyDefinition, tz: ZoneInfo) -> dict[str, Any]:
    title, title_en = _zh_en(definition.title)
    description, description_en = _zh_en(definition.description)

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(tz).replace(tzinfo=None) if moment else None

    return {
        "id": definition.id,
        "title": title,
        "title_en": title_en,
        "description": description,
        "description_en": description_en,
        "anonymous": YES if definition.anonymous else NO,
        "audience": ";".join(definition.audience),
        "opens_at": local(definition.opens_at),
        "closes_at": local(definition.closes_at),
        "reminders": ";".join(_duration(r) for r in definition.reminders),
    }


def _question_values(question: Question) -> dict[str, Any]:
    text, text_en = _zh_en(question.text)
    values: dict[str, Any] = {
        "id": question.id,
        "type": TYPE_NAMES[question.type],
        "text": text,
        "text_en": text_en,
        "required": YES if question.required else NO,
        "show_if": question.show_if,
    }
    kind = question.type
    if kind in _CHOICE:
        pairs = [_zh_en(option.text) for option in question.options]
        values["options"] = "\n".join(zh for zh, _en in pairs)
        if all(en for _zh, en in pairs):
            values["options_en"] = "\n".join(en for _zh, en in pairs)
        if any(option.key != zh for option, (zh, _en) in zip(question.options, pairs, strict=True)):
            values["option_keys"] = "\n".join(option.key for option in question.options)
        values["other"] = YES if question.other else NO
        if kind is QuestionType.MULTI:
            values["max_choices"] = question.max_choices
    if kind is QuestionType.SCALE or kind is QuestionType.NUMBER:
        values["min"], values["max"] = _plain(question.min), _plain(question.max)
    if kind is QuestionType.NUMBER:
        values["integer"] = YES if question.integer else NO
    if kind in _SCALES and question.labels:
        low, low_en = _zh_en(question.labels.get("min"))
        high, high_en = _zh_en(question.labels.get("max"))
        values["labels"] = f"{low};{high}"
        if low_en and high_en:
            values["labels_en"] = f"{low_en};{high_en}"
    if kind is QuestionType.TEXT and question.max_length != 1000:
        values["max_length"] = question.max_length
    return values


HELP_LINES = (
    "问卷模板 · Survey template",
    "",
    "1. 第一张表“设置 Settings”：每行一项，A 列是项目，B 列填内容。",
    "   Sheet 1 holds the settings: the key in column A, its value in column B.",
    "2. 第二张表“题目 Questions”：每行一道题，第一行是列名，不要改。",
    "   Sheet 2 holds the questions, one per row; keep the header row.",
    "3. 题型：单选、多选、量表、NPS、填空、数字。",
    "   选项每行一个（单元格内 Alt+Enter 换行），或用 ; 分隔。",
    "   Types: single, multi, scale, NPS, text, number. Options one per line (Alt+Enter) or ;",
    "4. 是/否 列可留空：必答默认“是”，其他默认“否”。",
    "   Yes/no columns may stay empty: required defaults to yes, the others to no.",
    '5. 显示条件只能引用前面题目的题号，如 q1 <= 2、q3 == "其他" 或 "体检" in q4。',
    '   show_if refers to earlier question ids only: q1 <= 2, "health" in q4.',
    "6. 不要合并单元格，不要用公式；保存为 .xlsx（WPS 也可以），发给机器人或运行",
    "   unionvoice survey import 文件.xlsx。出错时会指出哪张表、哪一行、哪一列。",
    "   No merged cells, no formulas. Save as .xlsx (WPS works too) and send it to the bot,",
    "   or run `unionvoice survey import FILE.xlsx`. Errors name the sheet, row and column.",
    "7. 表中已填好一个示例问卷：直接修改，或删掉示例行后填写自己的题目。",
    "   The sheets hold an example survey: edit it, or delete its rows and write your own.",
)


def definition_workbook(definition: SurveyDefinition, tz: ZoneInfo) -> bytes:
    """The survey as the template workbook: settings, questions, and the instructions."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    settings = workbook.active
    assert settings is not None
    settings.title = SETTINGS_SHEET
    settings.append(["项目/key", "内容/value", "备注/notes"])
    values = _settings_values(definition, tz)
    for column in SETTINGS_ROWS:
        settings.append([column.header, None, column.note])
        cell = settings.cell(row=settings.max_row, column=2)
        _set(cell, values[column.key])
        if isinstance(values[column.key], datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
    settings.column_dimensions["A"].width = 22
    settings.column_dimensions["B"].width = 40
    settings.column_dimensions["C"].width = 60

    questions = workbook.create_sheet(QUESTIONS_SHEET)
    questions.append([column.header for column in QUESTION_COLUMNS])
    for position, column in enumerate(QUESTION_COLUMNS, start=1):
        header = questions.cell(row=1, column=position)
        header.comment = Comment(column.note, "unionvoice", width=300, height=120)
        questions.column_dimensions[_letter(position)].width = column.width
    for question in definition.questions:
        row = questions.max_row + 1
        values = _question_values(question)
        for position, column in enumerate(QUESTION_COLUMNS, start=1):
            _set(questions.cell(row=row, column=position), values.get(column.key))
    questions.freeze_panes = "A2"
    last = max(questions.max_row, 2) + 100
    kinds = DataValidation(type="list", formula1='"单选,多选,量表,NPS,填空,数字"', allow_blank=True)
    yes_no = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    questions.add_data_validation(kinds)
    questions.add_data_validation(yes_no)
    kinds.add(f"B2:B{last}")
    for key in ("required", "other", "integer"):
        letter = _letter(next(i for i, c in enumerate(QUESTION_COLUMNS, 1) if c.key == key))
        yes_no.add(f"{letter}2:{letter}{last}")

    help_sheet = workbook.create_sheet(HELP_SHEET)
    for line in HELP_LINES:
        help_sheet.append([line])
    help_sheet.column_dimensions["A"].width = 110
    for sheet in (settings, questions):
        for cell in sheet[1]:
            cell.font, cell.fill = bold, fill
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = wrap
    for cell in settings["A"]:
        cell.font = bold
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _set(cell: Any, value: Any) -> None:
    if value is None or value == "":
        return
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, never a formula
