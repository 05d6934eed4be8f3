"""The [surveys] config section."""

from __future__ import annotations

from pydantic import Field

from common.settings import Section


class SurveysConfig(Section):
    # Department breakdowns and stored departments of anonymous responses need at least this
    # many people, so that a small group cannot be told apart.
    small_group: int = Field(default=5, ge=2, le=100)
