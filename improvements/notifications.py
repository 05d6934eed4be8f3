"""Templates of improvement-action messages (rendered by handlers/improvements/notices.py). Params
always carry action_id and problem (the action's short title)."""

from __future__ import annotations

IMPROVEMENT_DONE = "improvement.done"  # "you said, we did": measures, effect
IMPROVEMENT_DUE_SOON = "improvement.due_soon"  # to the owner / department: due_on
IMPROVEMENT_OVERDUE = "improvement.overdue"  # to officers (level 1) or the chair (level 2)
