"""The ledger component: double-entry books, loan accounts, repayment schedules, servicing and
the end-of-day batch. Public API: `ledger.service` (documented in docs/ledger.md)."""
