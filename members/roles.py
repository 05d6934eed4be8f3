"""Roles a person can hold in the union; several at once."""

from __future__ import annotations

from enum import StrEnum

# Telegram ids that are not people: the anonymous group admin (@GroupAnonymousBot) and the
# Telegram service account (channel auto-forwards). They never get a role.
NON_PERSON_TELEGRAM_IDS = frozenset({1087968824, 777000})


class Role(StrEnum):
    MEMBER = "member"
    REPRESENTATIVE = "representative"
    OFFICER = "officer"
    HANDLER = "handler"
    PRINCIPAL = "principal"
    SECRETARY = "secretary"
    CHAIR = "chair"  # 工会主席: told when a proposal stays overdue
    ADMIN = "admin"


# Holding the key role grants the listed ones for permission checks. Deliberately narrow:
# an admin runs the union's bot but is not a mailbox recipient of the principal or secretary.
_IMPLIED: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset({Role.OFFICER, Role.MEMBER}),
    Role.OFFICER: frozenset({Role.MEMBER}),
    Role.REPRESENTATIVE: frozenset({Role.MEMBER}),
}


def known_role_names(value: list[str]) -> list[str]:
    """Config lists of role names, checked (pydantic validator): a typo grants nothing."""
    unknown = sorted(set(value) - {role.value for role in Role})
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}")
    return value


def effective_roles(roles: frozenset[Role] | set[Role]) -> frozenset[Role]:
    """The roles plus everything they imply."""
    result = set(roles)
    for role in roles:
        result |= _IMPLIED.get(role, frozenset())
    return frozenset(result)


def is_officer(roles: frozenset[Role]) -> bool:
    return Role.OFFICER in effective_roles(roles)
