"""The ledger's public entry points, for handlers and web. Every function takes the caller's
SQLAlchemy Session (or, for the batch, a Connection) and never commits. See docs/ledger.md."""
from ledger.books import (  # noqa: F401
    CHART,
    CLASSIFICATIONS,
    TrialBalance,
    account_balance,
    credit,
    debit,
    ensure_chart,
    loan_posting_balances,
    post_entry,
    reverse_entry,
    trial_balance,
)
from ledger.eod import DEFAULT_POLICY, ClassificationPolicy, EodResult, run_eod  # noqa: F401
from ledger.errors import (  # noqa: F401
    DuplicateLoan,
    InvalidInput,
    LedgerError,
    LoanStateError,
    UnbalancedEntry,
    UnknownAccount,
    UnknownEntry,
    UnknownLoan,
)
from ledger.loans import PENALTY_MARKUP, disburse, load_loan, loan_view, open_loan  # noqa: F401
from ledger.reports import loan_book, npl_ratio  # noqa: F401
from ledger.schedules import Schedule, build_schedule  # noqa: F401
from ledger.servicing import (  # noqa: F401
    DEFAULT_ALLOCATION_ORDER,
    RepaymentResult,
    change_method,
    change_rate,
    change_repayment_account,
    override_classification,
    payoff_quote,
    recover,
    repay,
    reverse_loan_entry,
    write_off,
)
