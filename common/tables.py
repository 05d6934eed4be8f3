"""One table of strings written as CSV (UTF-8 with BOM, for Excel) or XLSX: the shape of the
officers' exports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from typing import BinaryIO, Literal

TableFormat = Literal["csv", "xlsx"]
# Spreadsheets run a cell starting with these as a formula ("CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# Characters an XLSX file may not contain (openpyxl refuses them).
XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _xlsx_cell(cell: str) -> str:
    return safe_cell(XLSX_ILLEGAL.sub("", cell))


def write_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    fmt: TableFormat,
    out: BinaryIO,
    *,
    sheet_title: str,
) -> None:
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[safe_cell(c) for c in row] for row in rows])
        out.write(text.getvalue().encode("utf-8-sig"))
        return
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = sheet_title
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_xlsx_cell(c) for c in row])
    for column in sheet.columns:
        for cell in column:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.save(out)


def write_sheets(
    sheets: Mapping[str, tuple[Sequence[str], Sequence[Sequence[str]]]], out: BinaryIO
) -> None:
    """Several tables as the sheets of one XLSX workbook (sheet names ≤ 31 characters)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])  # the default empty sheet
    for title, (columns, rows) in sheets.items():
        sheet = workbook.create_sheet(title[:31])
        sheet.append(list(columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_xlsx_cell(c) for c in row])
    workbook.save(out)
