"""bot.config: what an admin sees when the config file is right, missing or wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

NO_ENV: dict[str, str] = {}


def write_config(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "config.toml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def config_error(tmp_path: Path, text: str, environ: dict[str, str] = NO_ENV) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, text), environ)
    return str(caught.value)


def test_no_file_and_no_explicit_path_means_defaults(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, NO_ENV)
    assert config.telegram.token is None
    assert config.database.url == "sqlite+aiosqlite:///unionvoice.db"
    assert config.union.timezone == "Asia/Shanghai"
    assert config.union.default_locale == "zh"
    assert config.registration.invite_ttl_days == 14


def test_default_config_toml_in_working_directory_is_read(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, '[union]\nname = "教职工工会"\n')
    assert load_config(None, NO_ENV).union.name == "教职工工会"


def test_explicit_missing_path_names_the_file(tmp_path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match="no such file") as caught:
        load_config(missing, NO_ENV)
    assert str(missing) in str(caught.value)


def test_unknown_key_is_located_by_section_and_key(tmp_path) -> None:
    message = config_error(tmp_path, '[telegram]\ntokn = "1:a"\n')
    assert "[telegram] tokn" in message
    assert "unknown key" in message


def test_unknown_section_is_reported(tmp_path) -> None:
    message = config_error(tmp_path, '[telegrm]\ntoken = "1:a"\n')
    assert "[telegrm]" in message
    assert "unknown key" in message


def test_error_message_names_the_file(tmp_path) -> None:
    message = config_error(tmp_path, '[telegram]\ntokn = "1:a"\n')
    assert str(tmp_path / "config.toml") in message


def test_unknown_time_zone_is_rejected(tmp_path) -> None:
    message = config_error(tmp_path, '[union]\ntimezone = "Mars/Olympus"\n')
    assert "[union] timezone" in message
    assert "unknown time zone" in message


def test_time_zone_naming_a_region_directory_is_a_config_error(tmp_path) -> None:
    message = config_error(tmp_path, '[union]\ntimezone = "Asia"\n')
    assert "[union] timezone" in message


@pytest.mark.parametrize("token", ["secretvalue", "123456:", "abc:SECRETPART", " 12:SECRET"])
def test_malformed_token_is_rejected_without_echoing_it(tmp_path, token: str) -> None:
    message = config_error(tmp_path, f'[telegram]\ntoken = "{token}"\n')
    assert "[telegram] token" in message
    assert "does not look like a bot token" in message
    assert token.strip() not in message
    assert "SECRET" not in message


def test_malformed_token_from_environment_is_not_echoed(tmp_path) -> None:
    message = config_error(tmp_path, "", {"BOT_TOKEN": "oops-SECRET-VALUE"})
    assert "[telegram] token" in message
    assert "SECRET" not in message


def test_bot_token_environment_variable_overrides_file(tmp_path) -> None:
    path = write_config(tmp_path, '[telegram]\ntoken = "1:from-file"\nbot_username = "b"\n')
    config = load_config(path, {"BOT_TOKEN": "2:from-env"})
    assert config.require_token() == "2:from-env"
    assert config.telegram.bot_username == "b"  # the rest of the section is kept


def test_bot_token_environment_variable_works_without_telegram_section(tmp_path) -> None:
    path = write_config(tmp_path, "")
    assert load_config(path, {"BOT_TOKEN": "2:from-env"}).require_token() == "2:from-env"


def test_empty_bot_token_environment_variable_keeps_file_token(tmp_path) -> None:
    path = write_config(tmp_path, '[telegram]\ntoken = "1:from-file"\n')
    assert load_config(path, {"BOT_TOKEN": ""}).require_token() == "1:from-file"


def test_telegram_not_a_table_with_bot_token_is_a_config_error(tmp_path) -> None:
    config_error(tmp_path, 'telegram = "x"\n', {"BOT_TOKEN": "1:a"})


def test_missing_token_error_mentions_bot_token_variable(tmp_path) -> None:
    config = load_config(write_config(tmp_path, ""), NO_ENV)
    with pytest.raises(ConfigError, match="BOT_TOKEN"):
        config.require_token()


@pytest.mark.parametrize("api_base", ["ftp://example.org", "example.org", "localhost:8081"])
def test_api_base_must_be_http_or_https(tmp_path, api_base: str) -> None:
    message = config_error(tmp_path, f'[telegram]\napi_base = "{api_base}"\n')
    assert "[telegram] api_base" in message
    assert "http:// or https://" in message


def test_api_base_trailing_slash_is_stripped(tmp_path) -> None:
    path = write_config(tmp_path, '[telegram]\napi_base = "http://localhost:8081/"\n')
    assert load_config(path, NO_ENV).telegram.api_base == "http://localhost:8081"


@pytest.mark.parametrize("url", ["sqlite:///x.db", "postgresql://u@localhost/union"])
def test_sync_database_driver_is_rejected_with_a_hint(tmp_path, url: str) -> None:
    message = config_error(tmp_path, f'[database]\nurl = "{url}"\n')
    assert "[database] url" in message
    assert "sqlite+aiosqlite://" in message
    assert "postgresql+asyncpg://" in message


def test_database_url_without_scheme_is_rejected(tmp_path) -> None:
    message = config_error(tmp_path, '[database]\nurl = "unionvoice.db"\n')
    assert "[database] url" in message


def test_invalid_toml_is_a_config_error(tmp_path) -> None:
    message = config_error(tmp_path, '[telegram\ntoken = "1:a"\n')
    assert "not valid TOML" in message
    assert str(tmp_path / "config.toml") in message


def test_file_that_is_not_utf8_is_a_config_error(tmp_path) -> None:
    path = write_config(tmp_path, '[union]\nname = "工会"\n'.encode("gbk"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, NO_ENV)


def test_config_saved_with_utf8_bom_is_read(tmp_path) -> None:
    path = write_config(tmp_path, '\ufeff[union]\nname = "工会"\n'.encode())
    assert load_config(path, NO_ENV).union.name == "工会"


def test_config_path_that_is_a_directory_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError):
        load_config(tmp_path, NO_ENV)


def test_out_of_range_number_is_located(tmp_path) -> None:
    message = config_error(tmp_path, "[registration]\ninvite_ttl_days = 0\n")
    assert "[registration] invite_ttl_days" in message
