"""The base of every config section: each feature owns its section (e.g.
`proposals/settings.py`) and `bot/config.py` composes them into the one `Config`.

Pydantic only: no aiogram, no SQLAlchemy, so reading the config stays fast for the CLI."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict

# The languages of the catalogs (locales/<code>): a config value or a member's choice.
SUPPORTED_LOCALES = ("zh", "en")
Locale = Literal["zh", "en"]


class Section(BaseModel):
    """A table of the TOML file: unknown keys are errors, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def empty_is_none(value: object) -> object:
    return None if value == "" else value


def known_zone(value: str) -> str:
    """An IANA time zone name, checked (pydantic validator)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a folder: OSError
        raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
    return value


class Zoned:
    """A settings dataclass with a `timezone` name: `tz` is its ZoneInfo, looked up once (the
    zoneinfo module caches each zone)."""

    __slots__ = ()
    timezone: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
