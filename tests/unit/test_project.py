"""The promises the repository itself makes: the README's commands and the example config."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import Config, load_config

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    return re.findall(r"```sh\n(python3 -m venv .+?)\n```", (ROOT / "README.md").read_text())


def test_readme_has_exactly_two_setup_commands_run_and_test():
    run, test = readme_commands()
    assert "unionvoice run" in run
    assert "pytest" in test


def test_ci_runs_the_readme_test_command_verbatim():
    test = readme_commands()[1]
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci_lines


def test_example_config_is_valid_and_equals_the_defaults():
    assert load_config(ROOT / "config.example.toml", environ={}) == Config()


def test_example_config_documents_every_key():
    example = (ROOT / "config.example.toml").read_text()
    for section_name, section in Config.model_fields.items():
        assert f"[{section_name}]" in example
        assert section.annotation is not None
        for key in section.annotation.model_fields:
            assert re.search(rf"^{key} = ", example, re.MULTILINE), f"[{section_name}] {key}"


def test_example_survey_in_the_docs_is_valid():
    from surveys.definition import parse_definition

    source = (ROOT / "docs" / "examples" / "service-2026q4.toml").read_text(encoding="utf-8")
    definition = parse_definition(source, "service-2026q4.toml")
    assert definition.anonymous and len(definition.questions) == 6


def test_every_top_level_package_is_installed_by_pyproject():
    import tomllib

    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    missing = {p for p in packages if f"{p}*" not in include}
    assert not missing, f"add to [tool.setuptools.packages.find] include: {sorted(missing)}"


PRODUCT = (
    "bot", "common", "digest", "handlers", "improvements", "mailboxes", "members", "outbox",
    "privacy", "proposals", "sandbox", "storage", "surveys", "todo",
)  # fmt: skip


def test_every_type_ignore_in_product_code_names_its_code_and_reason():
    # mypy itself rejects an ignore without a code (ignore-without-code); the reason is ours.
    pattern = re.compile(r"# type: ignore(\[[\w\-, ]+\])?(?P<rest>.*)$")
    unexplained = []
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                found = pattern.search(line)
                if found and not re.match(r"\s+#\s*\S", found["rest"]):
                    unexplained.append(f"{path.relative_to(ROOT)}:{number}")
    assert not unexplained, "give each `# type: ignore[code]` a `  # reason`: " + ", ".join(
        unexplained
    )
