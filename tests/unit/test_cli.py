"""`unionvoice` command line, run as an admin would: output, exit codes, the database file."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.cli import main
from storage import migrate
from tests.fresh_cli import run_fresh

PROJECT_ROOT = Path(__file__).resolve().parents[2]
_TZ = ZoneInfo("Asia/Shanghai")
INVITE_LINK = re.compile(r"https://t\.me/unionvoice_test_bot\?start=inv_([A-Za-z0-9_-]{16})")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Cli = Callable[..., Result]


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/u.db"\n\n'
        '[telegram]\nbot_username = "unionvoice_test_bot"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def cli(cfg: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*args: str | Path) -> Result:
        code = main(["--config", str(cfg), *map(str, args)])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def roster(tmp_path: Path, text: str, name: str = "roster.csv") -> Path:
    """A CSV roster saved the way Excel's "CSV UTF-8" does: with a BOM."""
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8-sig"))
    return path


def load(cli: Cli, tmp_path: Path, rows: str, name: str = "roster.csv") -> Result:
    """Import rows under the Chinese header 工号,姓名,部门,角色."""
    return cli("members", "import", roster(tmp_path, "工号,姓名,部门,角色\n" + rows, name))


def members(cli: Cli) -> list[dict[str, object]]:
    result = cli("members", "list", "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def roles_of(cli: Cli, employee_id: str) -> str:
    return next(m["role"] for m in members(cli) if m["employee_id"] == employee_id)


# -- members import ---------------------------------------------------------------------------


def test_import_csv_with_bom_and_chinese_headers(cli: Cli, tmp_path: Path) -> None:
    result = load(cli, tmp_path, "1001,张三,教务处,会员\n1002,李四,财务处,工会干部\n")
    assert result.code == 0, result.err
    assert "imported 2 member(s): 2 new, 0 updated" in result.out
    assert sorted((m["employee_id"], m["name"], m["department"]) for m in members(cli)) == [
        ("1001", "张三", "教务处"),
        ("1002", "李四", "财务处"),
    ]


def test_reimport_updates_name_and_department_without_duplicates(cli: Cli, tmp_path) -> None:
    load(cli, tmp_path, "1001,张三,教务处\n1002,李四,财务处\n")
    result = load(cli, tmp_path, "1001,张三丰,图书馆\n1003,王五,后勤处\n", "v2.csv")
    assert result.code == 0, result.err
    assert "imported 2 member(s): 1 new, 1 updated" in result.out
    listed = members(cli)
    assert sorted(m["employee_id"] for m in listed) == ["1001", "1002", "1003"]
    assert next(m for m in listed if m["employee_id"] == "1001")["name"] == "张三丰"
    assert next(m for m in listed if m["employee_id"] == "1001")["department"] == "图书馆"


def test_file_with_one_bad_row_imports_nothing(cli: Cli, tmp_path: Path) -> None:
    path = roster(tmp_path, "工号,姓名,部门\n1001,张三,教务处\n1002,,财务处\n1003,王五,后勤处\n")
    result = cli("members", "import", path)
    assert result.code == 1
    assert f"{path}:3: name is empty" in result.err
    assert "nothing imported" in result.err
    assert result.out == ""
    assert members(cli) == []


def test_bad_file_leaves_previous_roster_untouched(cli: Cli, tmp_path: Path) -> None:
    load(cli, tmp_path, "1001,张三,教务处,\n")
    bad = roster(tmp_path, "工号,姓名,部门\n1001,张三丰,图书馆\n1002,李四,\n", "bad.csv")
    result = cli("members", "import", bad)
    assert result.code == 1
    assert f"{bad}:3: department is empty" in result.err
    assert [(m["name"], m["department"]) for m in members(cli)] == [("张三", "教务处")]


def test_every_bad_row_is_reported(cli: Cli, tmp_path: Path) -> None:
    path = roster(tmp_path, "工号,姓名,部门,角色\n1001,,教务处\n1001,李四,财务处,boss\n")
    result = cli("members", "import", path)
    assert result.code == 1
    assert f"{path}:2: name is empty" in result.err
    assert f"{path}:3: duplicate employee_id '1001' (first on line 2)" in result.err
    assert f"{path}:3: unknown role 'boss'" in result.err
    assert "nothing imported: 3 problem(s)" in result.err


def test_import_xlsx(cli: Cli, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["工号", "姓名", "部门", "角色"])
    sheet.append([1001, "张三", "教务处", "代表"])  # Excel numbers for employee ids
    sheet.append(["T-02", "Alice Smith", "外语学院", None])
    path = tmp_path / "roster.xlsx"
    workbook.save(path)
    result = cli("members", "import", path)
    assert result.code == 0, result.err
    assert "imported 2 member(s): 2 new, 0 updated" in result.out
    by_id = {m["employee_id"]: m for m in members(cli)}
    assert by_id["1001"]["role"] == "representative"
    assert by_id["T-02"]["name"] == "Alice Smith"


def test_missing_column_is_reported(cli: Cli, tmp_path: Path) -> None:
    result = cli("members", "import", roster(tmp_path, "工号,姓名\n1001,张三\n"))
    assert result.code == 1
    assert "missing required column(s): department" in result.err
    assert members(cli) == []


def test_unsupported_file_type_is_reported(cli: Cli, tmp_path: Path) -> None:
    result = cli("members", "import", roster(tmp_path, "x", "roster.txt"))
    assert result.code == 1
    assert "unsupported file type '.txt'" in result.err


def test_missing_roster_file_is_reported(cli: Cli, tmp_path: Path) -> None:
    result = cli("members", "import", tmp_path / "nope.csv")
    assert result.code == 1
    assert "cannot read file" in result.err


def test_new_member_without_role_gets_member_role(cli: Cli, tmp_path: Path) -> None:
    load(cli, tmp_path, "1001,张三,教务处,\n")
    assert roles_of(cli, "1001") == "member"


def test_empty_role_cell_on_reimport_keeps_roles(cli: Cli, tmp_path: Path) -> None:
    load(cli, tmp_path, "1001,张三,教务处,工会干部；代表\n")
    load(cli, tmp_path, "1001,张三,教务处,\n", "b.csv")
    assert roles_of(cli, "1001") == "representative;officer"


def test_absent_role_column_on_reimport_keeps_roles(cli: Cli, tmp_path: Path) -> None:
    load(cli, tmp_path, "1001,张三,教务处,officer\n")
    cli("members", "import", roster(tmp_path, "工号,姓名,部门\n1001,张三,图书馆\n", "b.csv"))
    assert roles_of(cli, "1001") == "officer"


def test_filled_role_cell_on_reimport_replaces_roles(cli: Cli, tmp_path: Path) -> None:
    load(cli, tmp_path, "1001,张三,教务处,officer;代表\n")
    load(cli, tmp_path, "1001,张三,教务处,书记\n", "b.csv")
    assert roles_of(cli, "1001") == "secretary"


def test_exported_csv_can_be_edited_and_reimported(cli: Cli, tmp_path: Path) -> None:
    load(cli, tmp_path, "1001,张三,教务处,member\n")
    exported = cli("members", "list").out
    edited = tmp_path / "edited.csv"
    edited.write_text(exported.replace(",member,", ",officer,"), encoding="utf-8")
    assert cli("members", "import", edited).code == 0
    assert roles_of(cli, "1001") == "officer"


# -- members list -----------------------------------------------------------------------------


def test_list_csv_on_empty_database_prints_header(cli: Cli) -> None:
    result = cli("members", "list")
    assert result.code == 0, result.err
    assert result.out == "employee_id,name,department,role,telegram_id\n"


def test_list_csv_rows(cli: Cli, tmp_path: Path) -> None:
    load(cli, tmp_path, '1001,"张, 三",教务处,代表;干部\n')
    result = cli("members", "list", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert rows == [
        {
            "employee_id": "1001",
            "name": "张, 三",
            "department": "教务处",
            "role": "representative;officer",
            "telegram_id": "",
        }
    ]


def test_list_json_is_readable_chinese(cli: Cli, tmp_path: Path) -> None:
    load(cli, tmp_path, "1001,张三,教务处,\n")
    result = cli("members", "list", "--format", "json")
    assert result.code == 0, result.err
    assert "张三" in result.out  # ensure_ascii=False: no \u5f20 escapes
    assert "\\u" not in result.out
    assert json.loads(result.out) == [
        {
            "employee_id": "1001",
            "name": "张三",
            "department": "教务处",
            "role": "member",
            "telegram_id": None,
        }
    ]


# -- members invite ---------------------------------------------------------------------------


def test_invite_prints_deep_link(cli: Cli, tmp_path: Path) -> None:
    load(cli, tmp_path, "1001,张三,教务处,\n")
    result = cli("members", "invite", "1001")
    assert result.code == 0, result.err
    assert INVITE_LINK.fullmatch(result.out.strip())
    assert "one use, valid 14 days" in result.err


def test_each_invite_has_a_fresh_code(cli: Cli, tmp_path: Path) -> None:
    load(cli, tmp_path, "1001,张三,教务处,\n")
    first, second = cli("members", "invite", "1001").out, cli("members", "invite", "1001").out
    assert first != second


def test_invite_code_is_stored_only_hashed(cli: Cli, tmp_path: Path) -> None:
    load(cli, tmp_path, "1001,张三,教务处,\n")
    match = INVITE_LINK.fullmatch(cli("members", "invite", "1001").out.strip())
    assert match is not None
    code = match.group(1)
    with sqlite3.connect(tmp_path / "u.db") as connection:
        rows = connection.execute("SELECT * FROM invite_codes").fetchall()
        hashes = [h for (h,) in connection.execute("SELECT code_hash FROM invite_codes")]
    connection.close()
    assert len(rows) == 1
    assert code not in repr(rows)
    assert hashes == [hashlib.sha256(code.encode()).hexdigest()]


def test_invite_for_unknown_employee_fails(cli: Cli) -> None:
    result = cli("members", "invite", "9999")
    assert result.code == 1
    assert "No member with employee id 9999" in result.err
    assert result.out == ""


# -- db upgrade and config errors -------------------------------------------------------------


def test_db_upgrade_prints_revision(cli: Cli, tmp_path: Path) -> None:
    result = cli("db", "upgrade")
    assert result.code == 0, result.err
    assert result.out == f"database at revision {migrate.revisions()[-1]}\n"
    assert (tmp_path / "u.db").exists()


def test_db_upgrade_twice_is_harmless(cli: Cli) -> None:
    assert cli("db", "upgrade").code == 0
    assert cli("db", "upgrade").code == 0


def test_missing_config_file_exits_2(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "missing.toml"
    assert main(["--config", str(missing), "db", "upgrade"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ")
    assert str(missing) in captured.err


def test_invalid_config_exits_2_naming_the_key(cfg: Path, cli: Cli) -> None:
    cfg.write_text('[union]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    result = cli("members", "list")
    assert result.code == 2
    assert "[union] timezone" in result.err


def test_invite_without_username_or_token_exits_2(cfg: Path, cli: Cli, tmp_path: Path) -> None:
    cfg.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/u.db"\n', encoding="utf-8")
    result = cli("members", "invite", "1001")
    assert result.code == 2
    assert "BOT_TOKEN" in result.err


# -- start-up cost ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["members", "list"],
        ["members", "import"],
        ["db", "upgrade"],
        ["survey", "template", "--format", "xlsx", "--output", "{tmp}/t.xlsx"],
        ["survey", "import", "{tmp}/t.xlsx"],
    ],
)
def test_offline_commands_do_not_import_aiogram(cfg: Path, tmp_path: Path, command) -> None:
    if command[:2] == ["members", "import"]:
        command = [*command, str(roster(tmp_path, "工号,姓名,部门\n1001,张三,教务处\n"))]
    if command[:2] == ["survey", "import"]:
        from surveys import library
        from surveys.workbook import definition_workbook

        definition = library.template_definition(library.EXAMPLE)
        (tmp_path / "t.xlsx").write_bytes(definition_workbook(definition, _TZ))
    command = [part.replace("{tmp}", str(tmp_path)) for part in command]
    process, loaded = run_fresh(cfg, command, ["aiogram"], timeout=60)
    assert process.returncode == 0, process.stderr
    assert loaded == []


def test_outbox_status_counts_messages_by_state(cli: Cli, cfg: Path) -> None:
    assert cli("db", "upgrade").code == 0
    url = tomllib.loads(cfg.read_text())["database"]["url"]
    with sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///")) as db:
        for key, status in [("a", "queued"), ("b", "sent"), ("c", "sent"), ("d", "unreachable")]:
            db.execute(
                "INSERT INTO outbox_messages (idempotency_key, chat_id, template, params, kind,"
                " status, attempts, next_attempt_at, created_at)"
                " VALUES (?, 1, 'text', '{}', 'text', ?, 0, '2026-01-01', '2026-01-01')",
                (key, status),
            )
    result = cli("outbox", "status")
    assert result.code == 0
    lines = dict(line.split() for line in result.out.splitlines())
    assert lines == {
        "queued": "1",
        "sending": "0",
        "sent": "2",
        "unreachable": "1",
        "failed": "0",
        "held": "0",  # work notices waiting for the notice sweep (docs/outbox.md)
        "batched": "0",
    }


def test_survey_import_list_open_close_and_results(cli: Cli, tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "docs" / "examples" / "service-2026q4.toml"
    imported = cli("survey", "import", example)
    assert imported.code == 0 and "imported survey service-2026q4 (6 questions" in imported.out
    assert "service-2026q4\tdraft\tanonymous\t0/0" in cli("survey", "list").out
    assert cli("survey", "open", "service-2026q4").code == 0
    refused = cli("survey", "open", "service-2026q4")
    assert refused.code == 1 and "already open" in refused.err
    assert cli("survey", "close", "service-2026q4").code == 0
    output = tmp_path / "results.json"
    exported = cli("survey", "results", "service-2026q4", "--format", "json", "--output", output)
    assert exported.code == 0 and json.loads(output.read_text(encoding="utf-8")) == []
    assert cli("survey", "results", "nope").code == 1

    broken = tmp_path / "broken.toml"
    broken.write_text(
        example.read_text(encoding="utf-8").replace("overall <= 2", "overal <= 2"), encoding="utf-8"
    )
    failed = cli("survey", "import", broken)
    assert failed.code == 1 and "show_if may refer only to earlier questions" in failed.err
    assert "nothing stored" in failed.err


def test_survey_template_import_and_export_definition_round_trip(cli: Cli, tmp_path: Path) -> None:
    from surveys.workbook import QUESTIONS_SHEET

    template = subprocess.run(  # binary on stdout, as `… > survey.xlsx` would save it
        [
            *(sys.executable, "-m", "bot.cli", "--config", str(tmp_path / "config.toml")),
            *("survey", "template", "--format", "xlsx"),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=60,
    )
    assert template.returncode == 0, template.stderr
    workbook = tmp_path / "survey.xlsx"
    workbook.write_bytes(template.stdout)
    imported = cli("survey", "import", workbook)
    assert (
        imported.code == 0 and "imported survey example-2026 (6 questions, draft)" in imported.out
    )

    exported = tmp_path / "exported.xlsx"
    assert cli("survey", "export-definition", "example-2026", "--output", exported).code == 0
    original, again = openpyxl.load_workbook(workbook), openpyxl.load_workbook(exported)
    for before, after in zip(original.worksheets, again.worksheets, strict=True):
        assert [[c.value for c in r] for r in before.iter_rows()] == [
            [c.value for c in r] for r in after.iter_rows()
        ]
    toml = cli("survey", "export-definition", "example-2026", "--format", "toml")
    assert tomllib.loads(toml.out)["id"] == "example-2026"

    broken = openpyxl.load_workbook(workbook)
    broken.worksheets[1]["B3"] = "问答题?"
    broken.save(tmp_path / "broken.xlsx")
    failed = cli("survey", "import", tmp_path / "broken.xlsx")
    assert failed.code == 1 and "nothing stored: 1 problem(s)" in failed.err
    assert f"Sheet “{QUESTIONS_SHEET}”, row 3, column B (题型/type): Unknown question type" in (
        failed.err
    )
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))
    old = cli("survey", "import", tmp_path / "old.xls")
    assert old.code == 1 and "old-format Excel file (.xls)" in old.err
    assert cli("survey", "export-definition", "nope").code == 1
