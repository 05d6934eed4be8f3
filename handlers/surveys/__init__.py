"""Surveys in chat: answering, and officers' drafts, tries, schedules and results."""
