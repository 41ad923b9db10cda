"""Scoring's own tables (risk lists and their audit trail). workflows.db creates them with the rest.

Risk lists are group-wide: a person blacklisted by one branch is refused by every branch.
Entries are removed physically; the change table keeps who added or removed what, when and why.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from privacy import SealedText

metadata = MetaData()


class ScoringBase(DeclarativeBase):
    metadata = metadata


class RiskListEntry(ScoringBase):
    __tablename__ = "scoring_risk_list_entry"
    __table_args__ = (
        UniqueConstraint("list_name", "id_number_hash", name="uq_scoring_risk_list_entry"),
        Index("ix_scoring_risk_list_entry_id_number_hash", "id_number_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(16))
    # Sealed; entries are found by the keyed hash (privacy.keys.Keyring.lookup_hash).
    id_number: Mapped[str] = mapped_column(SealedText)
    id_number_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RiskListChange(ScoringBase):
    __tablename__ = "scoring_risk_list_change"
    __table_args__ = (Index("ix_scoring_risk_list_change_list", "list_name", "id_number_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(16))
    id_number: Mapped[str] = mapped_column(SealedText)
    id_number_hash: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(8))  # "add" | "remove"
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
