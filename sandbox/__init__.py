"""Try the bot without Telegram: `unionvoice sandbox` serves a local chat page that plays
Telegram for the real bot (see docs/sandbox.md)."""
