"""The [registration] config section."""

from __future__ import annotations

from pydantic import Field

from common.settings import Section


class RegistrationConfig(Section):
    invite_ttl_days: int = Field(default=14, ge=1, le=365)
    # A plain member's roster row (member/representative) is linked when the employee id and
    # name match. false: invite links or an officer's approval only. Rows with any other role
    # never link by name (docs/privacy.md).
    match_by_name: bool = True
