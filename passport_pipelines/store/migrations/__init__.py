"""Alembic migrations of the golden store's schema (``versions/``), applied by ``store/engine.py`` through
``env.py`` on the connection the store hands it."""
