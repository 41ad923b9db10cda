"""Servicing a disbursed loan as staff and integrators drive it: view, repay, draw, payoff quote,
classification override, and the books (trial balance, loan book).

The web layer calls these, never the ledger directly, so branch isolation, business dates and the
posting keys that make a retry harmless are decided in one place. Each function runs inside the
caller's unit of work and never commits.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from sqlalchemy.orm import Session

from ledger import service as ledger
from workflows.access import reaches
from workflows.errors import Forbidden, InvalidInput, NotFound
from workflows.models import HQ, Branch, User
from workflows.clock import china_today


class LoanServicing:
    """One per process; holds no request state. `today` is the business clock (China)."""

    def __init__(self, today: Callable[[], dt.date] = china_today) -> None:
        self.today = today

    # -- reading --------------------------------------------------------------------------------
    def loan_for(self, session: Session, loan_id: str, actor: User, *, for_update: bool = False):
        """The loan, if the actor's branch may see it; another branch's loan is 404, as unknown."""
        loan = ledger.load_loan(session, loan_id, for_update=for_update)
        if not reaches(actor, loan.branch):
            raise NotFound(f"Loan {loan_id} was not found", field="loan_id")
        return loan

    def view(self, session: Session, loan_id: str, actor: User) -> dict:
        return ledger.loan_view(session, self.loan_for(session, loan_id, actor).id)

    def payoff(self, session: Session, loan_id: str, actor: User, value_date: str | None) -> dict:
        loan = self.loan_for(session, loan_id, actor)
        quote = ledger.payoff_quote(session, loan.id, value_date or self.today().isoformat())
        return {name: str(amount) for name, amount in quote.items()}

    def trial_balance(self, session: Session, actor: User, branch: str | None) -> dict:
        return ledger.trial_balance(session, self.books_scope(session, actor, branch)).to_dict()

    def loan_book(self, session: Session, actor: User, branch: str | None, product: str | None) -> dict:
        return ledger.loan_book(session, branch=self.books_scope(session, actor, branch), product=product)

    def books_scope(self, session: Session, actor: User, branch: str | None) -> str | None:
        """The branch whose books the actor asked for; None is HQ's consolidated view."""
        if branch is not None and session.get(Branch, branch) is None:
            raise NotFound(f"Unknown branch '{branch}'", field="branch")
        if actor.branch_code == HQ:
            return branch
        if branch not in (None, actor.branch_code):
            raise Forbidden("A branch user sees only the branch's own books", field="branch")
        return actor.branch_code

    # -- postings (each under a posting key derived from the request's Idempotency-Key) ----------
    def repay(self, session: Session, loan_id: str, actor: User, body: dict, key: str) -> dict:
        loan = self.loan_for(session, loan_id, actor)
        result = ledger.repay(session, loan.id, body.get("amount"), posting_key=self.posting_key("repayment", loan, key),
                              value_date=self.business_day(body, "value_date"),
                              prepayment=body.get("prepayment", "reduce_installment"))
        answer = result.to_dict()
        answer["loan"] = ledger.loan_view(session, loan.id)["balances"]
        return answer

    def draw(self, session: Session, loan_id: str, actor: User, body: dict, key: str) -> dict:
        loan = self.loan_for(session, loan_id, actor)
        entry = ledger.draw(session, loan.id, body.get("amount"), posting_key=self.posting_key("draw", loan, key),
                            business_date=self.business_day(body, "business_date"))
        return {"entry_id": entry.id, "loan": ledger.loan_view(session, loan.id)["balances"]}

    def override_classification(self, session: Session, loan_id: str, actor: User, body: dict, key: str) -> dict:
        reason = body.get("reason")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 400:
            raise InvalidInput("reason is required: why the class is overridden", field="reason")
        loan = self.loan_for(session, loan_id, actor)
        ledger.override_classification(session, loan.id, body.get("classification"), reason=reason,
                                       approver=actor.username, posting_key=self.posting_key("override", loan, key),
                                       business_date=self.business_day(body, "business_date"))
        return ledger.loan_view(session, loan.id)

    @staticmethod
    def posting_key(kind: str, loan, key: str) -> str:
        # The same text the API has always used, so keys posted before this module still replay.
        return f"api:{kind}:{loan.id}:{key}"

    def business_day(self, body: dict, name: str) -> str:
        """A value or business date from the body: today in China when absent, never later."""
        value = body.get(name)
        today = self.today().isoformat()
        if value is None:
            return today
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be a date as YYYY-MM-DD", field=name)
        if value > today:
            raise InvalidInput(f"{name} cannot be in the future", field=name)
        return value


def preview_schedule(args: dict) -> dict:
    """The public loan calculator: installments and totals for terms given as text."""
    fields = ("principal", "annual_rate", "term_months", "method", "start_date")
    missing = [name for name in fields if not args.get(name)]
    if missing:
        raise InvalidInput(f"missing query parameters: {', '.join(missing)}",
                           fields={name: ["is required"] for name in missing})
    schedule = ledger.build_schedule(args["principal"], args["annual_rate"], args["term_months"], args["method"],
                                     args["start_date"], day_count=args.get("day_count", "30/360"),
                                     frequency=args.get("frequency", "monthly"),
                                     harvest_months=args.get("harvest_months") or None,
                                     grace_months=args.get("grace_months") or 0)
    return schedule.to_dict()
