"""Files the union's office handles: the roster it imports and the member list it exports.

Attackers: a member whose name is a spreadsheet formula (it runs when an officer opens the
export), and a roster file built to exhaust the server's memory (huge, or a zip bomb)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from members import roster as roster_module
from members.roster import RosterFormatError, parse_roster
from tests.unit.test_cli import Cli, cfg, cli, load, members  # noqa: F401  (fixtures)


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_members_list_csv_defuses_formulas_and_still_reimports(
    cli: Cli,  # noqa: F811  (the fixture)
    tmp_path: Path,
    start: str,
) -> None:
    name = f'{start}HYPERLINK("http://evil","x")'
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow(["1001", name, f"{start}1+1", ""])
    assert load(cli, tmp_path, line.getvalue()).code == 0
    exported = cli("members", "list", "--format", "csv").out
    row = next(csv.DictReader(io.StringIO(exported)))
    assert row["name"] == "'" + name and row["department"] == f"'{start}1+1"
    # Export, edit, import again: the guard comes off, the name is as it was.
    edited = tmp_path / "edited.csv"
    edited.write_text(exported, encoding="utf-8")
    assert cli("members", "import", edited).code == 0
    assert members(cli)[0]["name"] == name


def _workbook(path: Path, rows: int) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["工号", "姓名", "部门"])
    for number in range(rows):
        sheet.append([f"T{number}", "张三", "机电学院"])
    workbook.save(path)
    return path


def test_roster_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    for name in ("big.csv", "big.xlsx"):
        path = tmp_path / name
        path.write_bytes(b"x" * (roster_module.MAX_FILE_BYTES + 1))
        with pytest.raises(RosterFormatError, match="too large"):
            parse_roster(path)


def test_roster_with_too_many_rows_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(roster_module, "MAX_ROWS", 50)
    csv_path = tmp_path / "many.csv"
    csv_path.write_text("工号,姓名,部门\n" + "".join(f"T{i},张三,机电学院\n" for i in range(51)))
    xlsx_path = _workbook(tmp_path / "many.xlsx", 51)
    for path in (csv_path, xlsx_path):
        with pytest.raises(RosterFormatError, match="more than 50 rows"):
            parse_roster(path)
    # At the limit it is fine.
    rows, errors = parse_roster(_workbook(tmp_path / "fifty.xlsx", 50))
    assert len(rows) == 50 and not errors


def test_xlsx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path, monkeypatch) -> None:
    bomb = _workbook(tmp_path / "bomb.xlsx", 3)
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (8 * 2**20))  # 8 MB → a few KB
    assert bomb.stat().st_size < roster_module.MAX_FILE_BYTES

    def never(*args, **kwargs):
        raise AssertionError("openpyxl opened the bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    with pytest.raises(RosterFormatError, match="bomb"):
        parse_roster(bomb)


def test_xlsx_declaring_more_than_the_unpacked_limit_is_refused(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(roster_module, "MAX_XLSX_UNPACKED", 10_000)
    with pytest.raises(RosterFormatError, match="unpack"):
        parse_roster(_workbook(tmp_path / "roster.xlsx", 200))
