"""Alembic environment. Always handed a connection by storage.migrate (never opens its own)."""

from __future__ import annotations

from alembic import context

from storage import models  # noqa: F401  (registers the tables on Base.metadata)
from storage.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `unionvoice db upgrade`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite can barely ALTER; batch mode rebuilds tables
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
