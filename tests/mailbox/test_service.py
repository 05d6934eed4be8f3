"""The mailbox service without chat: SLAs, the audit log, sealing, in-memory guards, config."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import ConfigError, parse_config
from bot.scheduler import sweep_notices
from bot.services import Services
from common.errors import DomainError
from mailboxes.memory import AnonymousSession, AnonymousSessions, SlidingLimit
from mailboxes.model import Draft, IdentityMode, LetterType
from mailboxes.sealing import Sealer
from mailboxes.service import MailboxService
from storage.uow import unit_of_work
from tests.conftest import make_config
from tests.mailbox.conftest import PRINCIPAL, SENDER


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def identity(repos, user):
    from members.service import MembershipService

    return await MembershipService(repos).identify(user.id)


async def test_unanswered_letters_remind_the_recipients_once(people, database, db_url):
    context = Services(make_config(db_url)).mailbox_context
    clock = Clock()
    async with unit_of_work(database.sessions) as repos:
        service = MailboxService(repos, context, clock=clock)
        sender = await identity(repos, SENDER)
        sent = await service.send(
            sender, "principal", LetterType.SUGGESTION, IdentityMode.NAMED, Draft("More books.")
        )
        answered = await service.send(
            sender, "principal", LetterType.REPORT, IdentityMode.NAMED, Draft("Broken light.")
        )
        await service.reply(await identity(repos, PRINCIPAL), answered.letter_id, Draft("Fixed"))
    await people.flush_outbox()

    async with unit_of_work(database.sessions) as repos:
        clock.now += timedelta(days=4, hours=23)
        assert (await MailboxService(repos, context, clock=clock).sweep())["reminded"] == 0
        clock.now += timedelta(hours=2)
        assert (await MailboxService(repos, context, clock=clock).sweep())["reminded"] == 1
        assert (await MailboxService(repos, context, clock=clock).sweep())["reminded"] == 0
    await sweep_notices(database)  # work notices wait for the notice sweep (docs/outbox.md)
    reminders = (await people.flush_outbox()).sent_to(PRINCIPAL.id)
    assert len(reminders) == 1
    assert f"Letter #{sent.letter_id}" in reminders[0].text and "5 days" in reminders[0].text


async def test_every_recipient_read_and_action_is_audited(people, database, db_url):
    context = Services(make_config(db_url)).mailbox_context
    async with unit_of_work(database.sessions) as repos:
        service = MailboxService(repos, context)
        sender, principal = await identity(repos, SENDER), await identity(repos, PRINCIPAL)
        sent = await service.send(
            sender, "principal", LetterType.REPORT, IdentityMode.CONFIDENTIAL, Draft("Noise.")
        )
        await service.open_letter(principal, sent.letter_id)
        await service.letter_files(principal, sent.letter_id)
        await service.reply(principal, sent.letter_id, Draft("Checking."), question=True)
        await service.mark_handled(principal, sent.letter_id, "Quiet hours set.")
        with pytest.raises(DomainError):
            await service.transfer(principal, sent.letter_id, "secretary", "late")
        log = await service.audit_log(principal, sent.letter_id)
    assert [action for _actor, action, _at in log] == ["read", "files", "question", "handled"]
    assert {actor for actor, _action, _at in log} == {principal.member.id}


async def test_empty_and_oversized_letters_are_refused(people, database, db_url):
    context = Services(make_config(db_url)).mailbox_context
    async with unit_of_work(database.sessions) as repos:
        service = MailboxService(repos, context)
        sender = await identity(repos, SENDER)
        for draft in (Draft("   "), Draft("x" * 10_001)):
            with pytest.raises(DomainError):
                await service.send(
                    sender, "principal", LetterType.REPORT, IdentityMode.NAMED, draft
                )
        with pytest.raises(DomainError):
            await service.send(
                sender, "nope", LetterType.REPORT, IdentityMode.NAMED, Draft("Hello")
            )
        assert await service.sent_letters(sender) == []


def test_seals_are_bound_to_their_letter_and_key():
    sealer = Sealer(secrets.token_bytes(32))
    seal = sealer.seal(111_111_111, 42)
    assert sealer.unseal(111_111_111, seal) == 42
    assert sealer.unseal(222_222_222, seal) is None  # moved to another letter
    assert sealer.unseal(111_111_111, seal[:-1] + bytes([seal[-1] ^ 1])) is None
    code = Sealer.new_receipt_code()
    assert len(code.replace(" ", "")) == 20
    assert sealer.receipt_hash(code) == sealer.receipt_hash(code.replace(" ", "-"))
    assert sealer.receipt_hash(code) != Sealer(secrets.token_bytes(32)).receipt_hash(code)
    assert Sealer.normalize_code("1234") is None


async def test_in_memory_guards_forget_after_their_window():
    now = [0.0]
    limit = SlidingLimit(limit=2, window=10, clock=lambda: now[0])
    await limit.hit(7)
    await limit.hit(7)
    assert await limit.exhausted(7) and not await limit.exhausted(8)
    now[0] = 10.5
    assert not await limit.exhausted(7)
    sessions = AnonymousSessions(ttl=60, clock=lambda: now[0])
    await sessions.start(7, AnonymousSession(box="principal"))
    assert await sessions.get(7) is not None
    now[0] += 61
    assert await sessions.get(7) is None
    assert not any(str(7) in repr(key) for key in sessions._sessions)


def test_box_config_is_checked():
    with pytest.raises(ConfigError, match="box keys must be unique"):
        parse_config({"mailbox": {"boxes": [{"key": "a", "name": "A"}, {"key": "a", "name": "B"}]}})
    with pytest.raises(ConfigError, match=r"unknown role"):
        parse_config({"mailbox": {"boxes": [{"key": "a", "name": "A", "roles": ["boss"]}]}})
    with pytest.raises(ConfigError, match="32 bytes"):
        parse_config({"mailbox": {"secret_key": "c2hvcnQ="}})


def test_the_key_file_is_created_once_private_and_reused(tmp_path):
    from common.secrets import load_or_create_key

    path = tmp_path / "keys" / "mailbox.key"
    key = load_or_create_key(path)
    assert len(key) == 32 and path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(path) == key


def test_webhook_mode_needs_the_key_in_the_config():
    from bot.services import Services

    webhook = {
        "mode": "webhook",
        "webhook_url": "https://bot.example.edu.cn/tg",
        "webhook_secret": "s3cret",
    }
    with pytest.raises(ConfigError, match=r"\[mailbox\] secret_key: required in webhook mode"):
        Services(parse_config({"telegram": webhook})).secret_key()
