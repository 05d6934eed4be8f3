"""The mailbox tests' people (a member, principal, secretary, officer, another member)."""

from tests.mailbox.conftest import people  # noqa: F401  (fixture)
