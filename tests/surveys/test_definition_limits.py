"""Hostile survey definitions (deep nesting, huge numbers) are refused as located definition
problems, never as a RecursionError or a bare ValueError ("something went wrong")."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from handlers.i18n import create_i18n
from surveys.definition import DefinitionError, localized, parse_definition

HEAD = (
    'id = "limits"\ntitle = "Limits"\n'
    '[[questions]]\nid = "a"\ntype = "scale"\ntext = "A"\n'
    '[[questions]]\nid = "b"\ntype = "text"\ntext = "B"\n'
)
PARENTHESES = HEAD + 'show_if = "' + "(" * 300 + "a == 1" + ")" * 300 + '"\n'
NOTS = HEAD + 'show_if = "' + "not " * 2000 + 'a == 1"\n'
LONG_NUMBER = HEAD.replace('type = "scale"', 'type = "number"\nmin = ' + "9" * 5000)
NESTED_ARRAY = HEAD.replace(
    'title = "Limits"', 'title = "Limits"\naudience = ' + "[" * 2000 + "]" * 2000
)
HOSTILE = {
    "300 parentheses": (
        PARENTHESES,
        "limits.toml:11: question 'b': show_if: nested too deeply: more than 32 levels of "
        "parentheses, lists or 'not' (at 33)",
    ),
    "2000 nots": (
        NOTS,
        "limits.toml:11: question 'b': show_if: nested too deeply: more than 32 levels of "
        "parentheses, lists or 'not' (at 129)",
    ),
    "5000-digit number": (LONG_NUMBER, "limits.toml:6: a number is too long (at most 30 digits)"),
    "nested TOML array": (
        NESTED_ARRAY,
        "limits.toml:3: arrays or tables are nested too deeply (more than 10 levels)",
    ),
}


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/u.db"\n', "utf-8")

    def run(*args: str | Path) -> tuple[int, str]:
        code = main(["--config", str(config), *map(str, args)])
        return code, capsys.readouterr().err

    return run


@pytest.mark.parametrize(("source", "problem"), HOSTILE.values(), ids=HOSTILE.keys())
def test_cli_import_refuses_a_hostile_definition_with_a_located_problem(
    cli, tmp_path: Path, source: str, problem: str
) -> None:
    path = tmp_path / "limits.toml"
    path.write_text(source, encoding="utf-8")
    code, err = cli("survey", "import", path)
    assert code == 1
    assert f"{tmp_path}/{problem}" in err
    assert "nothing stored: 1 problem(s)" in err
    assert "Traceback" not in err and "Recursion" not in err and "4300" not in err


@pytest.mark.parametrize(("source", "problem"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_definition_reads_in_the_officers_language(source: str, problem: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(source, "limits.toml")
    assert caught.value.problems == [problem]
    i18n = create_i18n("zh")
    with i18n.context(), i18n.use_locale("zh"):
        chinese = localized(caught.value.problems[0], i18n.gettext)
    assert chinese.startswith(problem.split(": ")[0] + ": ")  # the same file:line
    assert any(word in chinese for word in ("嵌套过深", "数字过长")), chinese


def test_limits_leave_room_for_real_conditions_and_numbers() -> None:
    nested = "(" * 10 + "a == 1" + ")" * 10
    source = HEAD.replace('type = "scale"', 'type = "number"\nmin = -123456789012.5') + (
        f'show_if = "not not {nested} or a in [[1, 2], [3]]"\n'
    )
    definition = parse_definition(source, "ok.toml")
    assert definition.questions[0].min == -123456789012.5
    assert definition.questions[1].is_shown({"a": 1})
