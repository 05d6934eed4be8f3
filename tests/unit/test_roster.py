from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from members.roles import Role
from members.roster import (
    RosterError,
    RosterFormatError,
    RosterRow,
    parse_roster,
    parse_roster_csv,
)


def write(tmp_path: Path, text: str, name: str = "roster.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_without_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "employee_id,name,department,role\n1001,张三,教务处,member\n")
    rows, errors = parse_roster(path)
    assert errors == []
    assert rows == [RosterRow(2, "1001", "张三", "教务处", frozenset({Role.MEMBER}))]


def test_csv_with_bom_and_crlf(tmp_path: Path) -> None:
    path = write(
        tmp_path, "employee_id,name,department\r\n1001,张三,教务处\r\n", "r.CSV", "utf-8-sig"
    )
    rows, errors = parse_roster(path)
    assert errors == []
    assert rows == [RosterRow(2, "1001", "张三", "教务处", None)]


def test_bom_in_decoded_text_is_ignored() -> None:
    rows, errors = parse_roster_csv("\ufeffemployee_id,name,department\nA-1,Li,Dept\n")
    assert errors == [] and rows[0].employee_id == "A-1"


def test_chinese_headers_any_order_case_whitespace_and_extra_columns(tmp_path: Path) -> None:
    text = " 部门 ,备注, 姓名,工号 ,角色\n教务处,note,张三,1001,会员\n"
    rows, errors = parse_roster(write(tmp_path, text))
    assert errors == []
    assert rows == [RosterRow(2, "1001", "张三", "教务处", frozenset({Role.MEMBER}))]
    text = "NAME,Employee_ID,Department,ROLE\nLi,A1,Dept,\n"
    rows, errors = parse_roster(write(tmp_path, text))
    assert errors == [] and rows == [RosterRow(2, "A1", "Li", "Dept", None)]


def test_cells_are_stripped_and_blank_lines_skipped() -> None:
    text = "\nemployee_id,name,department\n\n  1001 ,  张三 , 教务处 \n , , \n1002,李四,人事处\n"
    rows, errors = parse_roster_csv(text)
    assert errors == []
    assert [(r.line, r.employee_id, r.name, r.department) for r in rows] == [
        (4, "1001", "张三", "教务处"),
        (6, "1002", "李四", "人事处"),
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("member", {Role.MEMBER}),
        ("Officer; ADMIN", {Role.OFFICER, Role.ADMIN}),
        ("会员；代表", {Role.MEMBER, Role.REPRESENTATIVE}),
        ("教代会代表、工会干部", {Role.REPRESENTATIVE, Role.OFFICER}),
        ("干部，承办人", {Role.OFFICER, Role.HANDLER}),
        (
            "承办部门;院长;校长;书记;管理员",
            {Role.HANDLER, Role.PRINCIPAL, Role.SECRETARY, Role.ADMIN},
        ),
        ("member;;member; ", {Role.MEMBER}),
        ("", None),
        (" ; ；", None),
    ],
)
def test_roles_separators_and_aliases(cell: str, expected: set[Role] | None) -> None:
    rows, errors = parse_roster_csv(f'employee_id,name,department,role\n1,A,D,"{cell}"\n')
    assert errors == []
    assert rows[0].roles == (None if expected is None else frozenset(expected))


def test_comma_inside_quoted_role_cell() -> None:
    rows, errors = parse_roster_csv('工号,姓名,部门,角色\n1,A,D,"member,officer"\n')
    assert errors == [] and rows[0].roles == {Role.MEMBER, Role.OFFICER}


def test_unknown_role_names_it_and_lists_valid_ones() -> None:
    rows, errors = parse_roster_csv("employee_id,name,department,role\n1,A,D,member;boss;老板\n")
    assert rows == []
    assert [e.line for e in errors] == [2, 2]
    assert "unknown role 'boss'" in errors[0].message
    assert "unknown role '老板'" in errors[1].message
    for role in Role:
        assert role.value in errors[0].message


def test_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(RosterFormatError) as info:
        parse_roster(write(tmp_path, "姓名,role\nA,member\n"))
    assert str(info.value).endswith("missing required column(s): employee_id, department")
    assert "roster.csv" in str(info.value)


def test_duplicate_column_is_a_format_error() -> None:
    with pytest.raises(RosterFormatError, match="more than once"):
        parse_roster_csv("employee_id,name,姓名,department\n1,A,A,D\n")


def test_gbk_bytes_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "工号,姓名,部门\n1001,张三,教务处\n", encoding="gbk")
    with pytest.raises(RosterFormatError, match="UTF-8") as info:
        parse_roster(path)
    assert "roster.csv" in str(info.value)


@pytest.mark.parametrize("text", ["", "\ufeff", "\n \n,,\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    with pytest.raises(RosterFormatError, match="empty"):
        parse_roster(write(tmp_path, text))


def test_header_only_is_no_rows() -> None:
    assert parse_roster_csv("employee_id,name,department\n") == ([], [])


def test_unknown_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "x", name="roster.xls")
    with pytest.raises(RosterFormatError, match=r"roster\.xls.*\.csv or \.xlsx"):
        parse_roster(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RosterFormatError, match="cannot read"):
        parse_roster(tmp_path / "nope.csv")


def test_every_validation_error_with_line_numbers() -> None:
    long_id, long_text = "9" * 33, "x" * 65
    text = "\n".join(
        [
            "employee_id,name,department,role",
            ",A,D,",  # 2
            f"{long_id},A,D,",  # 3
            "a b,A,D,",  # 4
            "1/2,A,D,",  # 5
            "5,,D,",  # 6
            f"6,{long_text},D,",  # 7
            "7,A,,",  # 8
            f"8,A,{long_text},",  # 9
            "9,A,D,boss",  # 10
            "",  # 11: blank, skipped
            "10,,,x;y",  # 12: all problems of one row are reported
            f"{'1' * 32},{'n' * 64},{'d' * 64},",  # 13: exactly at the limits is fine
            "A.b-c_1,A,D,",  # 14
        ]
    )
    rows, errors = parse_roster_csv(text)
    assert [r.line for r in rows] == [13, 14]
    got = [(e.line, e.message) for e in errors]
    assert got[:4] == [
        (2, "employee_id is empty"),
        (3, "employee_id is longer than 32 characters"),
        (4, "employee_id 'a b' may contain only letters, digits, '-', '_' and '.'"),
        (5, "employee_id '1/2' may contain only letters, digits, '-', '_' and '.'"),
    ]
    assert got[4:8] == [
        (6, "name is empty"),
        (7, "name is longer than 64 characters"),
        (8, "department is empty"),
        (9, "department is longer than 64 characters"),
    ]
    assert got[8][0] == 10 and got[8][1].startswith("unknown role 'boss' (expected one of: ")
    assert [line for line, _ in got[9:]] == [12, 12, 12, 12]
    assert [m.split(" (")[0] for _, m in got[9:]] == [
        "name is empty",
        "department is empty",
        "unknown role 'x'",
        "unknown role 'y'",
    ]


def test_duplicates_name_the_first_line() -> None:
    text = "employee_id,name,department\n1,A,D\n2,B,D\n1,C,D\n\n1,E,D\n"
    rows, errors = parse_roster_csv(text)
    assert [r.line for r in rows] == [2, 3]
    assert errors == [
        RosterError(4, "duplicate employee_id '1' (first on line 2)"),
        RosterError(6, "duplicate employee_id '1' (first on line 2)"),
    ]


def test_multiline_quoted_cell_keeps_line_numbers() -> None:
    text = 'employee_id,name,department\n1,"A\nB",D\n2,,D\n'
    rows, errors = parse_roster_csv(text)
    assert rows[0].line == 2 and rows[0].name == "A\nB"
    assert errors == [RosterError(4, "name is empty")]


def test_xlsx_numbers_blank_rows_and_errors(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["工号", "姓名", "部门", "角色", "备注"])
    sheet.append([1001, "张三", "教务处", "会员；工会干部", None])  # 2: int id
    sheet.append([1002.0, "李四", "人事处", None, 3.5])  # 3: float id
    sheet.append([None, None, None, None, None])  # 4: blank row
    sheet.append(["A-7", " 王五 ", "后勤", "boss", None])  # 5: bad role
    sheet.append([1001, "赵六", "后勤", None, None])  # 6: duplicate of line 2
    sheet.cell(row=8, column=2, value="")  # 7 missing entirely, 8 blank: both skipped
    sheet.append([None, "钱七", "后勤", None, None])  # 9: empty id
    workbook.create_sheet("ignored").append(["not", "a", "roster"])
    path = tmp_path / "roster.XLSX"
    workbook.save(path)

    rows, errors = parse_roster(path)
    assert rows == [
        RosterRow(2, "1001", "张三", "教务处", frozenset({Role.MEMBER, Role.OFFICER})),
        RosterRow(3, "1002", "李四", "人事处", None),
    ]
    assert [(e.line, e.message.split(" (")[0]) for e in errors] == [
        (5, "unknown role 'boss'"),
        (6, "duplicate employee_id '1001'"),
        (9, "employee_id is empty"),
    ]
    assert "first on line 2" in errors[1].message


def test_xlsx_missing_column(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["employee_id", "name"])
    path = tmp_path / "r.xlsx"
    workbook.save(path)
    with pytest.raises(RosterFormatError, match=r"missing required column.*department"):
        parse_roster(path)


def test_xlsx_empty_sheet(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(RosterFormatError, match="empty"):
        parse_roster(path)


def test_unreadable_xlsx(tmp_path: Path) -> None:
    path = write(tmp_path, "employee_id,name,department\n", name="fake.xlsx")
    with pytest.raises(RosterFormatError, match=r"fake\.xlsx.*cannot read"):
        parse_roster(path)
