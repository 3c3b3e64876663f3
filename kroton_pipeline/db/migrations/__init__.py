"""Alembic migrations of the database, run through ``kroton_pipeline.db.engine``."""
