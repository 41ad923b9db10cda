"""The ledger's own tables. The ledger owns this MetaData; workflows.db creates it with the rest."""
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

metadata = MetaData()


class LedgerBase(DeclarativeBase):
    metadata = metadata
