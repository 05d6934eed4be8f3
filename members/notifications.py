"""Templates of the messages membership sends on its own (rendered by the bot at send time)."""

from __future__ import annotations

REGISTRATION_REQUEST = "registration.request"  # to approvers: request_id, employee_id, name
REGISTRATION_APPROVED = "registration.approved"  # to the requester: name, roles
REGISTRATION_REJECTED = "registration.rejected"  # to the requester
