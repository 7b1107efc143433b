"""Alembic environment: runs against the connection the golden store hands it."""

from __future__ import annotations

from alembic import context

from passport_pipelines.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through passport_pipelines.store.engine.migrate()")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
