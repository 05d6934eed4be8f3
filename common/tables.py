"""One table of strings written as CSV (UTF-8 with BOM, for Excel) or XLSX: the shape of the
officers' exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import BinaryIO, Literal

TableFormat = Literal["csv", "xlsx"]
# Spreadsheets run a cell starting with these as a formula ("CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_START) else cell


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
        sheet.append([safe_cell(c) for c in row])
    for column in sheet.columns:
        for cell in column:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.save(out)
