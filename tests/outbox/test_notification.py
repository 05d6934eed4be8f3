"""Notification.build / for_member: the one way features address a message."""

from __future__ import annotations

import pytest

from members.dto import MemberDTO
from outbox.model import Kind, Notification


def _member(telegram_id: int | None) -> MemberDTO:
    return MemberDTO(
        id=7,
        employee_id="E7",
        name="Li Ming",
        department="Library",
        telegram_id=telegram_id,
        locale="en",
        roles=frozenset(),
    )


def test_the_key_joins_its_parts_as_the_keys_written_before():
    # Existing outbox rows were keyed "survey:3:invite:7": the same event must keep its key.
    notification = Notification.build(
        ("survey", 3, "invite", 7), chat_id=100, locale="zh", template="t", params={"n": 1}
    )
    assert notification == Notification(
        key="survey:3:invite:7", chat_id=100, template="t", params={"n": 1}, locale="zh"
    )


def test_options_pass_through():
    notification = Notification.build(
        ("d", "chart"), chat_id=1, locale=None, template="t", kind=Kind.PHOTO, media_id=5
    )
    assert (notification.kind, notification.media_id, notification.params) == (Kind.PHOTO, 5, {})


def test_for_member_writes_to_their_chat_in_their_language():
    notification = Notification.for_member(_member(555), ("roles", 1, "box", 7), template="t")
    assert (notification.key, notification.chat_id, notification.locale) == (
        "roles:1:box:7",
        555,
        "en",
    )


def test_for_member_refuses_a_member_without_a_chat():
    with pytest.raises(ValueError):
        Notification.for_member(_member(None), ("roles", 1), template="t")
