"""The scale-out keys: webhook mode needs its URL and secret, and says so by key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config

WEBHOOK = {
    "mode": "webhook",
    "webhook_url": "https://bot.example.edu.cn/tg",
    "webhook_secret": "a_B-9",
}


def test_webhook_mode_with_url_and_secret() -> None:
    telegram = parse_config({"telegram": WEBHOOK}).telegram
    assert telegram.mode == "webhook" and telegram.webhook_path == "/tg"
    assert telegram.webhook_secret is not None
    assert telegram.webhook_secret.get_secret_value() == "a_B-9"


@pytest.mark.parametrize("missing", ["webhook_url", "webhook_secret"])
def test_webhook_mode_names_what_is_missing(missing: str) -> None:
    raw = {key: value for key, value in WEBHOOK.items() if key != missing}
    with pytest.raises(ConfigError, match=f"needs {missing}"):
        parse_config({"telegram": raw})


@pytest.mark.parametrize("secret", ["has space", "ünïcode", "x" * 257])
def test_a_secret_telegram_would_refuse_is_refused_without_echoing_it(secret: str) -> None:
    with pytest.raises(ConfigError, match="webhook_secret: must be 1-256 characters") as error:
        parse_config({"telegram": {**WEBHOOK, "webhook_secret": secret}})
    assert secret not in str(error.value)


def test_webhook_secret_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[telegram]\nmode = "webhook"\nwebhook_url = "https://bot.example.edu.cn/tg"\n')
    config = load_config(path, environ={"WEBHOOK_SECRET": "from_env"})
    assert config.telegram.webhook_secret is not None
    assert config.telegram.webhook_secret.get_secret_value() == "from_env"


def test_redis_url_must_be_a_redis_url() -> None:
    assert parse_config({"fsm": {"redis_url": ""}}).fsm.redis_url is None
    assert parse_config({"fsm": {"redis_url": "redis://127.0.0.1:6379/0"}}).fsm.redis_url
    with pytest.raises(ConfigError, match=r"\[fsm\] redis_url: must be a redis://"):
        parse_config({"fsm": {"redis_url": "127.0.0.1:6379"}})
