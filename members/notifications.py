"""Templates of the messages membership sends on its own (rendered by the bot at send time)."""

from __future__ import annotations

REGISTRATION_REQUEST = "registration.request"  # to approvers: request_id, employee_id, name,
# roster (name, department, roles, linked) or None
REGISTRATION_APPROVED = "registration.approved"  # to the requester: name, roles
REGISTRATION_REJECTED = "registration.rejected"  # to the requester
REGISTRATION_ATTEMPT = "registration.attempt"  # to a row's owner: employee_id
RECIPIENT_ADDED = "roles.recipient_added"  # to a box's recipients: box, name, department
