"""The composition root (bot/services.py): settings built once from the config sections, an
update's services built on first use and shared by the services that use them."""

from __future__ import annotations

from datetime import time

from bot.config import parse_config
from bot.services import HANDLER_SERVICES, Services
from members.roles import Role
from storage.uow import Repositories
from tests.conftest import TEST_MAILBOX_KEY

CONFIG = {
    "union": {"timezone": "Europe/London"},
    "surveys": {"small_group": 7},
    "proposals": {"min_cosigners": 4, "reminder_days": [1, 5]},
    "mailbox": {
        "secret_key": TEST_MAILBOX_KEY,
        "reply_days": 9,
        "boxes": [{"key": "dean", "name": "Dean", "roles": ["principal"], "telegram_ids": [5]}],
    },
    "digest": {"time": "7:05", "weekday": "friday", "action_escalate_after_days": 3},
}


def test_settings_are_built_once_from_the_sections() -> None:
    services = Services(parse_config(CONFIG))
    proposals = services.proposal_settings
    assert (proposals.min_cosigners, proposals.reminder_days) == (4, (5, 1))
    assert proposals.timezone == "Europe/London"
    digest = services.digest_settings
    assert (digest.weekday, digest.at, digest.timezone, digest.small_group) == (
        5,
        time(7, 5),
        "Europe/London",
        7,
    )
    assert services.improvement_settings.escalate_after_days == 3
    assert services.improvement_settings.timezone == "Europe/London"
    # One model of a mailbox box: the config's, used as is by the mailbox and the digest.
    (box,) = services.mailbox_settings.boxes
    assert digest.boxes == (box,) and digest.mailbox_reply_days == 9
    assert (box.name("en"), box.roles, box.telegram_ids) == ("Dean", {Role.PRINCIPAL}, {5})


async def test_an_updates_services_are_built_on_first_use_and_shared(database) -> None:
    services = Services(parse_config(CONFIG))
    async with database.sessions() as session:
        update = services.for_update(Repositories(session))
        surveys = update.get("surveys")
        assert update.get("surveys") is surveys
        assert (surveys.timezone, surveys.small_group) == ("Europe/London", 7)
        for name in HANDLER_SERVICES:
            assert update.get(name) is update.get(name), name
