"""Translations: every message in the code is translated in zh and en, and the catalogs load.

When test_catalog_is_complete fails, add the listed ids to locales/zh and locales/en: run the
`pybabel extract` / `pybabel update` commands from README.md, fill in the empty msgstr lines and
remove any `#, fuzzy` flags.
"""

from __future__ import annotations

import re
import shutil
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from common.settings import SUPPORTED_LOCALES
from handlers.i18n import DOMAIN, LOCALES_DIR, compile_catalogs, reduce_locale

PROJECT_ROOT = LOCALES_DIR.parent
KEYWORDS = {**DEFAULT_KEYWORDS, "_": None, "__": None, "N_": None}
NOT_SOURCE = {"tests", "locales", "docs", "build", "dist", "bench"}
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


@dataclass(frozen=True)
class Extracted:
    msgid: str | tuple[str, ...]
    context: str | None
    where: str

    @property
    def singular(self) -> str:
        return self.msgid if isinstance(self.msgid, str) else self.msgid[0]


def source_packages() -> list[Path]:
    """Top-level directories of the project holding Python files (not tests)."""
    packages = []
    for path in sorted(PROJECT_ROOT.iterdir()):
        if (
            path.is_dir()
            and path.name not in NOT_SOURCE
            and not path.name.startswith((".", "_"))
            and not path.name.endswith(".egg-info")
            and any(path.rglob("*.py"))
        ):
            packages.append(path)
    return packages


def extract_messages() -> list[Extracted]:
    found = []
    for package in source_packages():
        for filename, lineno, message, _comments, context in extract_from_dir(
            package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.append(Extracted(message, context, f"{package.name}/{filename}:{lineno}"))
    return found


def load_catalog(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def translations(catalog: Catalog) -> Iterator[Message]:
    for message in catalog:
        if message.id:  # skip the header
            yield message


def msgstrs(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def msgids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple | list) else [message.id]


def placeholders(text: str) -> set[str]:
    return {
        field
        for _literal, field, _spec, _conv in string.Formatter().parse(text)
        if field is not None
    }


@pytest.fixture(scope="module")
def extracted() -> list[Extracted]:
    return extract_messages()


def test_sources_are_found(extracted: list[Extracted]) -> None:
    names = {p.name for p in source_packages()}
    assert {"bot", "handlers", "members", "common", "storage"} <= names
    assert "tests" not in names
    assert len(extracted) > 20
    ids = {e.singular for e in extracted}
    assert "Please send text." in ids  # a _() call
    assert "You are not allowed to do this." in ids  # an N_() call


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalog_is_complete(extracted: list[Extracted], locale: str) -> None:
    catalog = load_catalog(locale)
    missing: dict[str, list[str]] = {}
    untranslated: dict[str, list[str]] = {}
    fuzzy: dict[str, list[str]] = {}
    for item in extracted:
        message = catalog.get(item.singular, context=item.context)
        if message is None:
            missing.setdefault(item.singular, []).append(item.where)
        elif message.fuzzy:
            fuzzy.setdefault(item.singular, []).append(item.where)
        elif not all(s.strip() for s in msgstrs(message)):
            untranslated.setdefault(item.singular, []).append(item.where)

    problems = []
    for title, ids in (
        ("missing from the catalog", missing),
        ("with an empty msgstr", untranslated),
        ("marked fuzzy (not used at runtime)", fuzzy),
    ):
        if ids:
            problems.append(f"{len(ids)} message id(s) {title}:")
            problems.extend(f"  {msgid!r}  ({', '.join(where)})" for msgid, where in ids.items())
    assert not problems, f"locales/{locale}/LC_MESSAGES/{DOMAIN}.po:\n" + "\n".join(problems)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_placeholders_match(locale: str) -> None:
    """A {typo} in a translation makes str.format raise KeyError when the message is shown."""
    problems = []
    for message in translations(load_catalog(locale)):
        try:
            expected = set().union(*(placeholders(i) for i in msgids(message)))
        except ValueError as error:
            problems.append(f"  msgid {message.id!r}: bad braces ({error})")
            continue
        for text in msgstrs(message):
            if not text:
                continue  # reported by test_catalog_is_complete when it matters
            try:
                got = placeholders(text)
            except ValueError as error:
                problems.append(f"  {message.id!r}: bad braces in msgstr ({error})")
                continue
            if got != expected:
                problems.append(
                    f"  {message.id!r}: msgstr has {sorted(got)}, msgid has {sorted(expected)}"
                )
    assert not problems, f"placeholders differ in locales/{locale}:\n" + "\n".join(problems)


def _needs_chinese(msgid: str) -> bool:
    """Whether the id has English words left once placeholders, tags and commands are gone."""
    text = re.sub(r"\{[^{}]*\}|<[^<>]*>|/[a-z_]+|https?://\S+", " ", msgid)
    return re.search(r"[A-Za-z]{2,}", text) is not None


def test_chinese_translations_are_chinese() -> None:
    untranslated = [
        f"  {message.id!r} -> {msgstrs(message)!r}"
        for message in translations(load_catalog("zh"))
        if _needs_chinese(msgids(message)[0])
        and any(s and not CJK.search(s) for s in msgstrs(message))
    ]
    assert not untranslated, "zh msgstr without any Chinese:\n" + "\n".join(untranslated)


def test_catalogs_have_no_duplicate_or_header_problems() -> None:
    for locale in SUPPORTED_LOCALES:
        catalog = load_catalog(locale)
        assert str(catalog.locale) == locale
        assert catalog.charset.lower() == "utf-8"


# --- compiling and loading ---------------------------------------------------------------


def _zh_of(i18n: I18n, msgid: str) -> str:
    return i18n.gettext(msgid, locale="zh")


def test_compile_catalogs_loads_in_aiogram() -> None:
    path = compile_catalogs()
    for locale in SUPPORTED_LOCALES:
        assert (path / locale / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()
    i18n = I18n(path=path, default_locale="en", domain=DOMAIN)
    assert set(SUPPORTED_LOCALES) <= set(i18n.available_locales)
    assert i18n.gettext("Please send text.", locale="zh") == "请发送文字。"
    assert i18n.gettext("Please send text.", locale="en") == "Please send text."


def test_every_extracted_id_is_in_the_compiled_zh_catalog(extracted: list[Extracted]) -> None:
    i18n = I18n(path=compile_catalogs(), default_locale="en", domain=DOMAIN)
    zh = load_catalog("zh")
    missing = sorted(
        {
            e.singular
            for e in extracted
            if e.context is None
            and (m := zh.get(e.singular)) is not None
            and not m.fuzzy
            and isinstance(m.string, str)
            and m.string
            and _zh_of(i18n, e.singular) != m.string
        }
    )
    assert not missing, "ids in the .po but not served from the compiled .mo:\n" + "\n".join(
        map(repr, missing)
    )


def test_compile_fresh_copy(tmp_path: Path) -> None:
    source = tmp_path / "locales"
    for po in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        target = source / po.relative_to(LOCALES_DIR)
        target.parent.mkdir(parents=True)
        shutil.copy(po, target)

    assert compile_catalogs(source) == source
    for locale in SUPPORTED_LOCALES:
        assert (source / locale / "LC_MESSAGES" / f"{DOMAIN}.mo").stat().st_size > 0
    i18n = I18n(path=source, default_locale="zh", domain=DOMAIN)
    assert i18n.gettext("Please send text.", locale="zh") == "请发送文字。"


def test_compile_falls_back_to_a_temp_dir_when_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "locales"
    for po in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        target = source / po.relative_to(LOCALES_DIR)
        target.parent.mkdir(parents=True)
        shutil.copy(po, target)

    real_open = Path.open

    def read_only_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "w" in mode and self.is_relative_to(source):
            raise PermissionError(13, "Read-only file system", str(self))
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", read_only_open)
    target = compile_catalogs(source)
    monkeypatch.undo()
    try:
        assert target != source
        i18n = I18n(path=target, default_locale="en", domain=DOMAIN)
        assert i18n.gettext("Please send text.", locale="zh") == "请发送文字。"
    finally:
        shutil.rmtree(target, ignore_errors=True)


# --- Telegram language codes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh-hans", "zh"),
        ("zh-CN", "zh"),
        ("zh_TW", "zh"),
        ("zh", "zh"),
        ("en-US", "en"),
        ("EN", "en"),
        ("en", "en"),
        ("fr", None),
        ("", None),
        (None, None),
    ],
)
def test_reduce_locale(code: str | None, expected: str | None) -> None:
    assert reduce_locale(code) == expected
