"""Storage: SQLAlchemy tables, repositories (keyword-only functions), Alembic migrations."""
