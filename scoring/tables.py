"""Scoring's own tables (risk lists, limit configuration). workflows.db creates them with the rest."""
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

metadata = MetaData()


class ScoringBase(DeclarativeBase):
    metadata = metadata
