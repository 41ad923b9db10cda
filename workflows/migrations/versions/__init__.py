"""One module per schema revision; alembic reads them by file (names start with the revision id)."""
