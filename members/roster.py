"""Parse the union's member roster from CSV or XLSX into validated rows (no I/O beyond reading)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from common.tables import FORMULA_START
from members.roles import Role

# Same limits as registration (members.service) and the members table.
EMPLOYEE_ID_MAX, NAME_MAX, DEPARTMENT_MAX = 32, 64, 64
# Every row is held in memory: a college roster is a few thousand rows and well under a
# megabyte, so anything far bigger is a mistake or an attack.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# An .xlsx is a zip: refuse one that would unpack to far more than it weighs (a zip bomb)
# before openpyxl inflates anything.
MAX_XLSX_UNPACKED = 100 * 1024 * 1024
MAX_XLSX_RATIO = 100  # per member larger than 1 MB unpacked; real sheets compress ~10-20x
MAX_XLSX_ENTRIES = 1_000

REQUIRED_COLUMNS = ("employee_id", "name", "department")
_HEADER_ALIASES = {
    "工号": "employee_id",
    "姓名": "name",
    "部门": "department",
    "角色": "role",
    "roles": "role",  # what `members list` writes, so an export can be edited and re-imported
}
_ROLE_NAMES: dict[str, Role] = {role.value: role for role in Role} | {
    "会员": Role.MEMBER,
    "代表": Role.REPRESENTATIVE,
    "教代会代表": Role.REPRESENTATIVE,
    "工会干部": Role.OFFICER,
    "干部": Role.OFFICER,
    "承办人": Role.HANDLER,
    "承办部门": Role.HANDLER,
    "院长": Role.PRINCIPAL,
    "校长": Role.PRINCIPAL,
    "书记": Role.SECRETARY,
    "工会主席": Role.CHAIR,
    "主席": Role.CHAIR,
    "管理员": Role.ADMIN,
}
# Spreadsheets typed on Chinese keyboards mix ASCII and full-width separators.
_ROLE_SEPARATORS = re.compile(r"[;；,，、]")
_VALID_ROLES = ", ".join(role.value for role in Role)


@dataclass(frozen=True, slots=True)
class RosterRow:
    line: int
    employee_id: str
    name: str
    department: str
    roles: frozenset[Role] | None  # None: cell empty or column absent (keep existing roles)


@dataclass(frozen=True, slots=True)
class RosterError:
    line: int
    message: str


class RosterFormatError(Exception):
    """The file as a whole cannot be used (as opposed to per-row RosterError)."""


def parse_roster(path: Path) -> tuple[list[RosterRow], list[RosterError]]:
    """Read a .csv or .xlsx roster. Rows are returned only for valid lines."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".xlsx"):
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise RosterFormatError(f"{path}: cannot read file ({exc})") from exc
        if size > MAX_FILE_BYTES:
            raise RosterFormatError(
                f"{path}: file is too large ({size / 2**20:.1f} MB; at most "
                f"{MAX_FILE_BYTES // 2**20} MB); split the roster into several files"
            )
    if suffix == ".csv":
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RosterFormatError(f"{path}: cannot read file ({exc})") from exc
        return parse_roster_csv(data, source=str(path))
    if suffix == ".xlsx":
        return parse_roster_xlsx(path)
    raise RosterFormatError(
        f"{path}: unsupported file type {path.suffix or '(none)'!r}; use .csv or .xlsx"
    )


def parse_roster_csv(
    data: str | bytes, source: str = "<csv>"
) -> tuple[list[RosterRow], list[RosterError]]:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RosterFormatError(
                f"{source}: file is not UTF-8 (byte {exc.start}); save it as CSV UTF-8"
            ) from exc
    data = data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(data, newline=""))
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            records.append((start, cells))  # a quoted cell may span lines: report where it began
            start = reader.line_num + 1
            _check_row_count(len(records), source)
    except csv.Error as exc:
        raise RosterFormatError(f"{source}: malformed CSV at line {start}: {exc}") from exc
    return _parse_records(records, source)


def _check_row_count(rows: int, source: str) -> None:
    if rows > MAX_ROWS + 1:  # + the header
        raise RosterFormatError(
            f"{source}: more than {MAX_ROWS:,} rows; split the roster into several files"
        )


def check_xlsx_archive(path: Path) -> None:
    """Refuse a zip that would unpack to far more than it weighs, before anything inflates.

    The sizes are the ones the archive declares; Python's zipfile stops at the declared size
    (and fails the CRC check), so a lying header cannot inflate more than this allows."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise RosterFormatError(f"{path}: cannot read as .xlsx ({exc})") from exc
    if len(entries) > MAX_XLSX_ENTRIES:
        raise RosterFormatError(f"{path}: not a roster workbook ({len(entries):,} parts)")
    unpacked = sum(entry.file_size for entry in entries)
    suspicious = any(
        entry.file_size > 2**20 and entry.file_size > MAX_XLSX_RATIO * max(entry.compress_size, 1)
        for entry in entries
    )
    if unpacked > MAX_XLSX_UNPACKED or suspicious:
        raise RosterFormatError(
            f"{path}: refused: the workbook would unpack to {unpacked / 2**20:,.0f} MB "
            f"(a compressed bomb?); save the roster again or as CSV"
        )


def parse_roster_xlsx(path: Path) -> tuple[list[RosterRow], list[RosterError]]:
    check_xlsx_archive(path)
    import openpyxl  # lazy: loading openpyxl is slow and CSV imports don't need it

    records: list[tuple[int, list[str]]] = []
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1):
                records.append((number, [_cell_text(value) for value in values]))
                _check_row_count(len(records), str(path))
        finally:
            workbook.close()
    except RosterFormatError:
        raise
    except Exception as exc:  # openpyxl raises many types for corrupt or foreign files
        raise RosterFormatError(f"{path}: cannot read as .xlsx ({exc})") from exc
    return _parse_records(records, str(path))


def _unguard(cell: str) -> str:
    """Take off the apostrophe `members list` puts before = + - @ (spreadsheet safety)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_START) else cell


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 1001 as 1001.0
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _parse_records(
    records: Sequence[tuple[int, Sequence[str]]], source: str
) -> tuple[list[RosterRow], list[RosterError]]:
    filled = [(line, [_unguard(cell.strip()) for cell in cells]) for line, cells in records]
    filled = [(line, cells) for line, cells in filled if any(cells)]
    if not filled:
        raise RosterFormatError(f"{source}: file is empty (expected a header row)")
    columns = _header_columns(filled[0][1], source)
    rows: list[RosterRow] = []
    errors: list[RosterError] = []
    first_seen: dict[str, int] = {}
    for line, cells in filled[1:]:
        row, row_errors = _parse_row(line, cells, columns, first_seen)
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
    return rows, errors


def _header_columns(header: Sequence[str], source: str) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        key = raw.strip().lower()
        key = _HEADER_ALIASES.get(key, key)
        if key not in (*REQUIRED_COLUMNS, "role"):
            continue  # extra columns (notes, phone...) are allowed and ignored
        if key in columns:
            raise RosterFormatError(f"{source}: column {key!r} appears more than once")
        columns[key] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise RosterFormatError(f"{source}: missing required column(s): {', '.join(missing)}")
    return columns


def _cell(cells: Sequence[str], columns: dict[str, int], key: str) -> str:
    index = columns.get(key)
    return cells[index] if index is not None and index < len(cells) else ""


def _parse_row(
    line: int, cells: Sequence[str], columns: dict[str, int], first_seen: dict[str, int]
) -> tuple[RosterRow | None, list[RosterError]]:
    """The row if valid, else every problem found in it (all reported at once)."""
    messages: list[str] = []
    employee_id = _cell(cells, columns, "employee_id")
    if not employee_id:
        messages.append("employee_id is empty")
    elif len(employee_id) > EMPLOYEE_ID_MAX:
        messages.append(f"employee_id is longer than {EMPLOYEE_ID_MAX} characters")
    elif not all(c.isalnum() or c in "-_." for c in employee_id):  # as in registration
        messages.append(
            f"employee_id {employee_id!r} may contain only letters, digits, '-', '_' and '.'"
        )
    if employee_id:
        if employee_id in first_seen:
            messages.append(
                f"duplicate employee_id {employee_id!r} (first on line {first_seen[employee_id]})"
            )
        else:
            first_seen[employee_id] = line
    name, department = _cell(cells, columns, "name"), _cell(cells, columns, "department")
    for key, value, limit in (("name", name, NAME_MAX), ("department", department, DEPARTMENT_MAX)):
        if not value:
            messages.append(f"{key} is empty")
        elif len(value) > limit:
            messages.append(f"{key} is longer than {limit} characters")
    roles, unknown = _parse_roles(_cell(cells, columns, "role"))
    messages.extend(unknown)
    if messages:
        return None, [RosterError(line, message) for message in messages]
    return RosterRow(line, employee_id, name, department, roles), []


def role_from_name(name: str) -> Role | None:
    """A role named as in a roster's role column (English or Chinese), else None."""
    return _ROLE_NAMES.get(name.strip().lower())


def _parse_roles(cell: str) -> tuple[frozenset[Role] | None, list[str]]:
    """Roles in a cell plus one message per unknown name; None when the cell names none."""
    roles: set[Role] = set()
    unknown: list[str] = []
    for token in _tokens(cell):
        role = _ROLE_NAMES.get(token)
        if role is None:
            unknown.append(f"unknown role {token!r} (expected one of: {_VALID_ROLES})")
        else:
            roles.add(role)
    return (frozenset(roles) or None), unknown


def _tokens(cell: str) -> Iterable[str]:
    return (token.strip().lower() for token in _ROLE_SEPARATORS.split(cell) if token.strip())
