"""`unionvoice mailbox export`: a box's letters, names only on named letters."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.cli import main
from mailboxes.model import Draft, IdentityMode, LetterType
from storage.database import create_database
from storage.uow import unit_of_work
from tests.conftest import TEST_MAILBOX_KEY


async def _letters(url: str) -> None:
    from bot.config import parse_config
    from bot.services import Services
    from mailboxes.service import MailboxService
    from members.service import MembershipService
    from tests.conftest import seed_roster

    database = create_database(url)
    try:
        await seed_roster(database, [("T1", "王五", "档案馆", "")])
        async with unit_of_work(database.sessions) as repos:
            await MembershipService(repos).register(4242, "T1", "王五", locale="zh")
        config = parse_config({"mailbox": {"secret_key": TEST_MAILBOX_KEY}})
        async with unit_of_work(database.sessions) as repos:
            mailbox = MailboxService(repos, Services(config).mailbox_context)
            me = await MembershipService(repos).identify(4242)
            for mode, text in (
                (IdentityMode.NAMED, "实名信"),
                (IdentityMode.CONFIDENTIAL, "保密信"),
            ):
                await mailbox.send(me, "principal", LetterType.REPORT, mode, Draft(text))
    finally:
        await database.dispose()


def test_export_a_box(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path}/u.db"
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[database]\nurl = "{url}"\n[mailbox]\nsecret_key = "{TEST_MAILBOX_KEY}"\n',
        encoding="utf-8",
    )
    assert main(["--config", str(cfg), "db", "upgrade"]) == 0
    asyncio.run(_letters(url))
    capsys.readouterr()
    assert main(["--config", str(cfg), "mailbox", "export", "nobox"]) == 2
    assert "boxes: principal, secretary" in capsys.readouterr().err
    out = tmp_path / "principal.csv"
    assert main(["--config", str(cfg), "mailbox", "export", "principal", "--output", str(out)]) == 0
    assert "2 letter(s) exported" in capsys.readouterr().err
    rows = out.read_text(encoding="utf-8-sig").splitlines()
    named = next(r for r in rows if "实名信" in r)
    sealed = next(r for r in rows if "保密信" in r)
    assert "王五" in named and "王五" not in sealed and "档案馆" not in sealed
