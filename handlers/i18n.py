"""gettext catalogs: compiled from locales/*.po at start-up, so a plain install is runnable."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n, I18nMiddleware

from common.settings import SUPPORTED_LOCALES
from members.dto import Identity

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
logger = logging.getLogger(__name__)


def _needs_compiling(po: Path, mo: Path) -> bool:
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


def compile_catalogs(source: Path = LOCALES_DIR) -> Path:
    """Compile every .po next to itself (or into a temp dir if the tree is read-only)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    target = source
    for po in sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        if not _needs_compiling(po, mo):
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parent.parent.name)
        # Written aside, then renamed into place: several processes start at once (test
        # workers, two instances) and one must never read another's half-written catalog.
        partial = mo.with_name(f".{mo.name}.{os.getpid()}")
        try:
            with partial.open("wb") as handle:
                write_mo(handle, catalog)
            os.replace(partial, mo)
        except OSError:
            partial.unlink(missing_ok=True)
            return _compile_elsewhere(source)
    return target


def _compile_elsewhere(source: Path) -> Path:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    target = Path(tempfile.mkdtemp(prefix="unionvoice-locales-"))
    for po in source.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        mo = target / po.parent.parent.name / "LC_MESSAGES" / f"{DOMAIN}.mo"
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as src, mo.open("wb") as dst:
            write_mo(dst, read_po(src, locale=po.parent.parent.name))
    logger.info("locales compiled into %s (source tree is read-only)", target)
    return target


def create_i18n(default_locale: str) -> I18n:
    return I18n(path=compile_catalogs(), default_locale=default_locale, domain=DOMAIN)


def reduce_locale(language_code: str | None) -> str | None:
    """Telegram's language_code (zh-hans, zh-CN, en-US …) to one of ours, or None."""
    if not language_code:
        return None
    base = language_code.replace("_", "-").split("-")[0].lower()
    return base if base in SUPPORTED_LOCALES else None


class LocaleMiddleware(I18nMiddleware):
    """Member's stored choice → choice made before registering → Telegram's → config default."""

    FSM_KEY = "locale"

    async def get_locale(  # aiogram's I18nMiddleware fixes the signature
        self,
        event: TelegramObject,  # noqa: ARG002
        data: dict[str, Any],
    ) -> str:
        identity: Identity | None = data.get("identity")
        if identity is not None and identity.member is not None and identity.member.locale:
            return identity.member.locale
        state = data.get("state")
        if state is not None:
            chosen = await state.get_value(self.FSM_KEY)
            if chosen in SUPPORTED_LOCALES:
                return str(chosen)
        user = data.get("event_from_user")
        return reduce_locale(user.language_code if user else None) or self.i18n.default_locale
