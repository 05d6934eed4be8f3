"""Templates of proposal messages the bot sends on its own. Params always carry proposal_id
and title; `status` and `note` where a step has them."""

from __future__ import annotations

PROPOSAL_STATUS = "proposal.status"  # to proposer and co-signers: status, note
PROPOSAL_ASSIGNED = "proposal.assigned"  # to the department's handlers: department, due_on
PROPOSAL_CLARIFICATION = "proposal.clarification"  # handler's question to the proposer: note
PROPOSAL_CLARIFIED = "proposal.clarified"  # proposer's reply to the handlers: note
PROPOSAL_DUE_SOON = "proposal.due_soon"  # to handlers: due_on
PROPOSAL_OVERDUE = "proposal.overdue"  # to officers (level 1) or the chair (level 2): level
PROPOSAL_REVIEW = "proposal.review"  # to officers: the proposal reached review
PROPOSAL_UNHANDLED = "proposal.unhandled"  # to officers: assigned to a department without
# handlers (department, due_on): nobody there is told, so they follow it up
