"""The registry of digest sections, in the order they are shown. A section is independent:
add one by writing a module with a SECTION and listing it here."""

from __future__ import annotations

from digest.sections import actions, mailbox, proposals, surveys, themes
from digest.sections.base import Audience, Section

SECTIONS: tuple[Section, ...] = (
    surveys.SECTION,
    themes.SECTION,
    proposals.SECTION,
    mailbox.SECTION,
    actions.SECTION,
)


def sections_for(audience: Audience) -> tuple[Section, ...]:
    return tuple(section for section in SECTIONS if audience.kind in section.audiences)
