"""Regression (issue #18): the improvement service read survey definitions in the default
"Asia/Shanghai" zone instead of the union's. A survey whose times without an offset are valid
only in the union's own zone then failed to load there, and an officer linking its NPS
question to an improvement action got an error instead of the NPS baseline.

The services come from the composition root (bot/services.py), as in the bot."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.services import Services
from improvements.model import Link, LinkKind
from improvements.service import ActionDraft
from storage.uow import Repositories
from tests.conftest import make_config
from tests.digest.world import SURVEY, W47_DAY, answer, make_world

# Opens 10:00 UTC; closes at 16:00 union time: in London (UTC+0 in November) that is after
# the opening, in Shanghai (08:00 UTC) before it, which no definition may say.
LONDON_SURVEY = SURVEY.format(slug="canteen-london", anonymous="false").replace(
    "anonymous = false",
    "anonymous = false\nopens_at = 2026-11-10T10:00:00Z\ncloses_at = 2026-11-10T16:00:00",
)
DRAFT = ActionDraft(
    problem="食堂满意度低",
    cause="",
    measures="增开窗口",
    owner="H1",
    due_on=date(2026, 12, 20),
    expected_effect="",
)


async def test_an_nps_question_is_measured_with_the_unions_time_zone(db_url, database) -> None:
    async with database.sessions() as session:
        world = await make_world(database, Repositories(session))
        services = Services(make_config(db_url, timezone="Europe/London"), clock=world.clock)
        surveys = services.surveys(world.repos)
        survey, _ = await surveys.import_definition(LONDON_SURVEY, "canteen-london.toml")
        await world.repos.surveys.set_status(survey.id, "open", datetime(2026, 11, 10, tzinfo=UTC))
        await world.repos.commit()
        for nps in (10, 9, 3):  # two promoters, one detractor: NPS 33
            await answer(world, survey.id, W47_DAY, 4, nps=nps)

        improvements = services.improvements(world.repos)
        action = await improvements.open(
            world.people["O1"], DRAFT, [Link(LinkKind.QUESTION, survey.id, "nps")]
        )
        assert [link.baseline for link in action.links] == [33.0]
        evidence = await services.improvements(world.repos).measure(action.id)
        assert [(e.measure, e.before) for e in evidence] == [("nps", 33.0)]
