"""The [proposals] config section, and the settings the proposal service works with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field

from common.settings import Section, Zoned
from members.roles import Role, known_role_names


@dataclass(frozen=True, slots=True)
class ProposalSettings(Zoned):
    categories: tuple[str, ...] = ("教学科研", "民主管理", "福利待遇", "后勤服务", "其他")
    min_cosigners: int = 2
    proposer_roles: frozenset[Role] = frozenset({Role.REPRESENTATIVE})
    answer_days: int = 30
    reminder_days: tuple[int, ...] = (3, 1)
    escalate_after_days: int = 7
    timezone: str = "Asia/Shanghai"


class ProposalsConfig(Section):
    categories: list[str] = Field(
        default_factory=lambda: ["教学科研", "民主管理", "福利待遇", "后勤服务", "其他"],
        min_length=1,
    )
    # Co-signers a proposal needs before it goes to review (suggestions need none).
    min_cosigners: int = Field(default=2, ge=0, le=50)
    # Roles that may file proposals; every member may file a suggestion.
    proposer_roles: Annotated[list[str], AfterValidator(known_role_names)] = Field(
        default_factory=lambda: ["representative"]
    )
    answer_days: int = Field(default=30, ge=1, le=365)
    reminder_days: list[int] = Field(default_factory=lambda: [3, 1])
    escalate_after_days: int = Field(default=7, ge=1, le=365)

    def settings(self, timezone: str) -> ProposalSettings:
        """What the service works with; `timezone` is the union's."""
        return ProposalSettings(
            categories=tuple(self.categories),
            min_cosigners=self.min_cosigners,
            proposer_roles=frozenset(Role(r) for r in self.proposer_roles),
            answer_days=self.answer_days,
            reminder_days=tuple(sorted(self.reminder_days, reverse=True)),
            escalate_after_days=self.escalate_after_days,
            timezone=timezone,
        )
