"""Scheduling times in the union's time zone, and trying a draft as a pure dry run."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from common.errors import DomainError
from surveys import library, schedule
from surveys.dryrun import StaleStep, TryRun

TZ = ZoneInfo("Asia/Shanghai")
# Wednesday 2026-12-02 23:30 in Shanghai (15:30 UTC).
NOW = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def test_presets_are_in_the_unions_time_zone() -> None:
    assert schedule.tomorrow_morning(NOW, TZ) == local("2026-12-03 08:00")
    assert schedule.next_monday_morning(NOW, TZ) == local("2026-12-07 08:00")
    monday = local("2026-12-07 09:00")
    assert schedule.next_monday_morning(monday, TZ) == local("2026-12-14 08:00")
    assert schedule.closing_after(7, None, NOW, TZ) == local("2026-12-09 18:00")
    opens = local("2026-12-07 08:00")
    assert schedule.closing_after(3, opens, NOW, TZ) == local("2026-12-10 18:00")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-07 08:00", "2026-12-07 08:00"),
        ("2026/12/7 8:30", "2026-12-07 08:30"),
        ("12-14 18:00", "2026-12-14 18:00"),
        ("12月7日 8:00", "2026-12-07 08:00"),
        ("2026年12月7日8点", "2026-12-07 08:00"),
        ("12-07", "2026-12-07 08:00"),  # a date alone: the default time
        ("1-5 9:00", "2027-01-05 09:00"),  # without a year: the next such date
    ],
)
def test_typed_times(typed: str, expected: str) -> None:
    assert schedule.parse_time(typed, NOW, TZ) == local(expected)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("next week", "Please type a time"),
        ("2026-02-30 08:00", "There is no such date"),
        ("2026-12-07 25:00", "There is no such date"),
        ("2026-12-01 08:00", "already passed"),
    ],
)
def test_bad_typed_times(typed: str, message: str) -> None:
    with pytest.raises(DomainError) as caught:
        schedule.parse_time(typed, NOW, TZ)
    assert message in caught.value.message_id


def test_closing_must_follow_opening() -> None:
    plan = schedule.Schedule(local("2026-12-07 08:00"), local("2026-12-06 08:00"), True, ("all",))
    with pytest.raises(DomainError):
        schedule.check(plan, NOW)


def test_a_try_follows_the_branches_and_keeps_only_json() -> None:
    definition = library.template_definition(library.EXAMPLE, TZ)
    run = TryRun(definition)
    assert run.step().position == 1
    step = run.rate(1, 2)
    assert step.question is not None and step.question.id == "q2"  # shown: q1 <= 2
    with pytest.raises(StaleStep):
        run.rate(1, 5)  # a button of the question already answered
    run = TryRun(definition, run.to_json())  # what the conversation keeps
    step = run.type_in("活动太少")
    step = run.toggle(3, 0)
    step = run.confirm(3)
    step = run.choose(4, -1)
    assert step.awaiting_other
    step = run.type_in("食堂")
    step = run.type_in("3")
    step = run.skip(6)
    assert step.is_summary and len(step.answers) == 6
    assert run.back().question.id == "q6"  # type: ignore[union-attr]
    assert run.edit(1).question.id == "q1"  # type: ignore[union-attr]
    step = run.rate(1, 5)  # now q2 is hidden and its answer dropped
    assert step.is_summary and "q2" not in run.to_json()["answers"]
