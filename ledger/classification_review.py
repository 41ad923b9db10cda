"""Maker-checker for five-level classification (五级分类): which moves the batch may not make alone,
how it holds them as proposals, and how a decided proposal is recorded.

The batch computes each loan's class from days past due as before. With a reviewing policy
(`ClassificationPolicy(review=True)`), a move to 次级 or worse, and every upgrade, is not posted:
`hold_moves_for_review` turns it into a pending `ClassificationProposal`, and the loan keeps its
class until `decide_proposal` records the risk officer's decision on the customer manager's reason,
two different people. A move from 正常 to 关注 (the first day overdue) is still the batch's own.

Set-based like the rest of the batch: three statements over the batch's work rows, whatever the
size of the book. Re-running a night proposes nothing new: a pending proposal for the same move
stays, and a move the risk officer rejected is not proposed again until the loan's class or the
books' answer changes.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ledger.books import CLASSIFICATIONS, credit, debit, loans_account_code, post_entry
from ledger.errors import InvalidInput, LoanStateError
from ledger.loans import load_loan
from ledger.schedules import parse_date
from ledger.tables import ClassificationProposal, LoanChange

PENDING, APPROVED, REJECTED, WITHDRAWN, SUPERSEDED = "pending", "approved", "rejected", "withdrawn", "superseded"
# A downgrade to this class or a worse one needs the review (次级, 可疑, 损失).
REVIEWED_FROM = "substandard"


def _rank(column: str) -> str:
    # Best first: normal 0 … loss 4, as CLASSIFICATIONS lists them.
    cases = " ".join(f"WHEN '{name}' THEN {rank}" for rank, name in enumerate(CLASSIFICATIONS))
    return f"(CASE {column} {cases} ELSE {len(CLASSIFICATIONS)} END)"


def hold_moves_for_review(conn: Connection, params: dict) -> int:
    """Within the batch: the work rows `kind = 'reclass'` whose move needs a review become
    `'review'` (the batch's postings skip them) and pending proposals. Returns how many proposals
    the night added."""
    params = {**params, "reviewed_from": CLASSIFICATIONS.index(REVIEWED_FROM)}
    conn.execute(text(f"""
        UPDATE ledger_eod_work SET kind = 'review'
        WHERE kind = 'reclass'
          AND ({_rank('new_class')} < {_rank('old_class')} OR {_rank('new_class')} >= :reviewed_from)
    """), params)
    # A proposal the books no longer support is closed, so its tasks can be withdrawn: superseded
    # when they now point to another class (a new proposal follows), withdrawn when to none.
    conn.execute(text("""
        UPDATE ledger_classification_proposal SET status = CASE WHEN EXISTS (
                SELECT 1 FROM ledger_eod_work w WHERE w.kind = 'review'
                  AND w.loan_id = ledger_classification_proposal.loan_id) THEN 'superseded' ELSE 'withdrawn' END,
            decided_on = :bd
        WHERE status = 'pending' AND NOT EXISTS (
            SELECT 1 FROM ledger_eod_work w WHERE w.kind = 'review'
              AND w.loan_id = ledger_classification_proposal.loan_id
              AND w.new_class = ledger_classification_proposal.to_class
              AND w.old_class = ledger_classification_proposal.from_class)
    """), params)
    return conn.execute(text("""
        INSERT INTO ledger_classification_proposal
            (loan_id, branch, business_date, from_class, to_class, days_past_due, status)
        SELECT w.loan_id, w.branch, :bd, w.old_class, w.new_class, w.days_past_due, 'pending'
        FROM ledger_eod_work w
        WHERE w.kind = 'review'
          AND NOT EXISTS (SELECT 1 FROM ledger_classification_proposal p
                          WHERE p.loan_id = w.loan_id AND p.status = 'pending')
          -- the risk officer's "no" holds while the loan's latest proposal is that same move
          AND NOT EXISTS (SELECT 1 FROM ledger_classification_proposal p
                          WHERE p.loan_id = w.loan_id AND p.status = 'rejected'
                            AND p.from_class = w.old_class AND p.to_class = w.new_class
                            AND p.id = (SELECT MAX(q.id) FROM ledger_classification_proposal q
                                        WHERE q.loan_id = w.loan_id))
    """), params).rowcount


def decide_proposal(session: Session, proposal_id: int, *, approve: bool, reason: str, proposed_by: str,
                    decided_by: str, comment: str, business_date: Any) -> ClassificationProposal:
    """Record the risk officer's decision on a pending proposal. Approved: the loan moves to the
    proposed class now (the principal moves between the loans-receivable accounts, and the batch
    keeps the class, since it is what the books say). Rejected: nothing moves. A retry of the same
    decision returns the recorded proposal."""
    when = parse_date(business_date, "business_date")
    proposal = session.scalar(select(ClassificationProposal).where(ClassificationProposal.id == int(proposal_id))
                              .with_for_update())
    if proposal is None:
        raise InvalidInput("proposal_id", f"classification proposal {proposal_id} does not exist")
    decided = APPROVED if approve else REJECTED
    if proposal.status == decided and proposal.decided_by == decided_by:
        return proposal
    if proposal.status != PENDING:
        raise LoanStateError(f"classification proposal {proposal_id} is {proposal.status}, not pending",
                             field="proposal_id")
    problems = {}
    if not (reason or "").strip():
        problems["reason"] = "the customer manager's reason is required"
    if not proposed_by:
        problems["proposed_by"] = "the customer manager who gave the reason is required"
    if not decided_by:
        problems["decided_by"] = "the risk officer who decides is required"
    elif decided_by == proposed_by:
        problems["decided_by"] = "the risk officer who decides must not be the one who gave the reason (four eyes)"
    if problems:
        field, message = next(iter(problems.items()))
        raise InvalidInput(field, "; ".join(f"{k}: {v}" for k, v in problems.items()) if len(problems) > 1 else message)

    proposal.status, proposal.reason, proposal.proposed_by = decided, reason.strip()[:400], proposed_by
    proposal.decided_by, proposal.decided_on, proposal.comment = decided_by, when, (comment or "")[:400]
    if approve:
        _move(session, proposal, when)
    session.flush()
    return proposal


def _move(session: Session, proposal: ClassificationProposal, when: date) -> None:
    loan = load_loan(session, proposal.loan_id, for_update=True)
    key = f"classification:{proposal.id}"
    old, new = loan.classification, proposal.to_class
    session.add(LoanChange(loan_id=loan.id, change_key=key, kind="classification", effective_date=when,
                           old_value=old, new_value=new, reason=proposal.reason or "",
                           approved_by=proposal.decided_by))
    if old == new:
        return
    if loan.principal_outstanding > 0:
        post_entry(session, branch=loan.branch, posting_key=key, business_date=when, kind="reclassification",
                   loan_id=loan.id, description=f"classification review: {proposal.reason}"[:400],
                   lines=[debit(loans_account_code(new), loan.principal_outstanding, loan.id),
                          credit(loans_account_code(old), loan.principal_outstanding, loan.id)])
    loan.classification = new


def load_proposal(session: Session, proposal_id: int) -> ClassificationProposal:
    proposal = session.get(ClassificationProposal, int(proposal_id))
    if proposal is None:
        raise InvalidInput("proposal_id", f"classification proposal {proposal_id} does not exist")
    return proposal


def pending_proposal_for(session: Session, loan_ref: int | str) -> ClassificationProposal | None:
    loan = load_loan(session, loan_ref)
    return session.scalar(select(ClassificationProposal).where(ClassificationProposal.loan_id == loan.id,
                                                               ClassificationProposal.status == PENDING))
