"""The settings the improvement service works with. Their config keys sit in the [digest]
section (action_reminder_days, action_escalate_after_days): see digest/settings.py."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImprovementSettings:
    reminder_days: tuple[int, ...] = (3, 1)
    escalate_after_days: int = 7
    timezone: str = "Asia/Shanghai"
