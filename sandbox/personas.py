"""The people one sandbox user can play: each a separate Telegram user with a roster entry.

This is the one list to edit. Telegram ids are stable, so a kept sandbox database
(`--database`) recognises the same people on the next run, and other parts of the bot can be
configured with them (e.g. mailbox recipients: the principal and the secretary).
"""

from __future__ import annotations

from dataclasses import dataclass

from members.roles import Role


@dataclass(frozen=True, slots=True)
class Persona:
    key: str
    telegram_id: int
    employee_id: str
    name: str
    department: str
    roles: frozenset[Role]
    # Linked to its Telegram id before the first screen; the others register in the chat.
    registered: bool
    label: dict[str, str]  # page chrome: zh and en

    def public(self) -> dict[str, object]:
        """What the page needs to show the persona switcher."""
        return {
            "key": self.key,
            "chat_id": self.telegram_id,
            "name": self.name,
            "department": self.department,
            "label": self.label,
            "roles": sorted(role.value for role in self.roles),
            "registered": self.registered,
        }


PERSONAS: tuple[Persona, ...] = (
    # Member A starts unregistered, so the first thing to try is /start. A staff
    # representative (教代会代表): may file proposals, not only suggestions.
    Persona("member_a", 7_000_000_001, "S1001", "张晓明", "机电工程学院",
            frozenset({Role.REPRESENTATIVE}), False, {"zh": "会员甲", "en": "Member A"}),
    Persona("member_b", 7_000_000_002, "S1002", "李华", "外国语学院",
            frozenset({Role.REPRESENTATIVE}), True, {"zh": "会员乙", "en": "Member B"}),
    Persona("officer", 7_000_000_003, "S2001", "王芳", "校工会",
            frozenset({Role.OFFICER}), True, {"zh": "工会干部", "en": "Officer"}),
    Persona("principal", 7_000_000_004, "S3001", "赵国强", "校长办公室",
            frozenset({Role.PRINCIPAL}), True, {"zh": "院长", "en": "Principal"}),
    Persona("secretary", 7_000_000_005, "S3002", "陈静", "党委办公室",
            frozenset({Role.SECRETARY}), True, {"zh": "书记", "en": "Party secretary"}),
    Persona("handler", 7_000_000_006, "S4001", "刘洋", "后勤处",
            frozenset({Role.HANDLER}), True, {"zh": "承办人", "en": "Handler"}),
)  # fmt: skip

BY_CHAT_ID = {persona.telegram_id: persona for persona in PERSONAS}


def persona(key: str) -> Persona:
    """The persona with this key (e.g. when wiring mailbox recipients after a merge)."""
    for candidate in PERSONAS:
        if candidate.key == key:
            return candidate
    raise KeyError(key)
