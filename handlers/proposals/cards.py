"""A proposal's card shown to one person (what they may do with it): used by every
proposal screen and the co-signing link of /start."""

from __future__ import annotations

from handlers.proposals.views import card_keyboard, proposal_card
from handlers.screen import Screen
from members.dto import Identity
from proposals.service import ProposalService


async def show_card(
    screen: Screen,
    proposals: ProposalService,
    identity: Identity,
    proposal_id: int,
    *,
    edit: bool = False,
) -> None:
    proposal = await proposals.visible(identity, proposal_id)
    cosigners = len(await proposals.cosigners(proposal_id))
    text = proposal_card(proposal, cosigners, proposals.settings.min_cosigners)
    attachments = await proposals.attachments(identity, proposal_id)
    markup = card_keyboard(proposal, identity, len(attachments))
    if edit:
        await screen.edit(text, reply_markup=markup)
    else:
        await screen.show(text, reply_markup=markup)
