"""Credit lines (授信) and drawdowns (用信): a line is granted once, through the `credit_line`
process (the origination stages, ending in `credit_line.activate` instead of a payout), and drawn
on many times, each drawdown a quick decision and a payout through the ledger.

What a line has available is never stored: it is the limit less the outstanding principal of the
ledger loans its drawdowns went to, read in one query. So a repayment (posted on the loan, as any)
releases the line by itself, and the line and the books cannot disagree.

A drawdown is checked in this order, and refused with the first problem found:
  1. the line's state: frozen, recalled or closed is a 409; expired (by status, or past its expiry
     date on the bank's clock) is a 409 that offers renewal (续贷: a new line application naming this one);
  2. the amount: within what is available, named in the refusal ("available 20000.00");
  3. risk interception at the disbursement checkpoint (the branch's risk_rules.json, the risk lists),
     as origination's disbursement stage does; a drawdown has no reviewer to read a warning, so a
     graylist or overdue warning stops it too (only "bureau not checked" does not);
  4. limits against live exposure (the Exposure service the limit handlers use): each drawdown's
     loan is tagged with the line application's dimensions, so what the line already has out is
     in the exposure rows like any loan, and only this drawdown's amount is added.
Then the ledger pays out: a loan of its own per drawdown on a non-revolving line; on a revolving
line the first drawdown opens one revolving loan for the line's limit and pays out its amount, and
each later one is a draw on it.

A freeze is immediate; an unfreeze or a reduction runs the branch's credit_line_change process (at
HQ's default applied at once by an approver, at a branch that requires it after an approval).

Every public method runs inside the caller's unit of work and never commits.
"""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.context import HandlerContext
from handlers.credit_line import LineGrant
from handlers.limits import check_disbursement as check_limits
from handlers.risk import check_disbursement as check_risk
from ledger import service as ledger
from ledger.schedules import add_months
from ledger.tables import LoanAccount
from privacy import redact_text
from scoring.risk import BUREAU_NOT_CHECKED
from workflows.clock import in_china
from workflows.access import reaches
from workflows.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.process_views import works_in
from workflows.processes import UseCase
from workflows.models import (Application, Branch, CreditLine, CreditLineDrawdown, CreditLineEvent, Product,
                              User, utcnow)

LINE_PROCESS = "credit_line"
CENT = Decimal("0.01")
# Who acts on a line, as a bank divides it: a freeze is a risk measure (approver or risk officer); an
# unfreeze or a reduction changes what the branch approved (the approver decides). Who draws: the
# channel or the customer manager at the counter.
FREEZERS = frozenset({"approver", "risk_officer"})
# Unfreeze and reduce run the branch's credit_line_change process: asked for by these roles; where
# the branch applies them at once (HQ's default), by the approver only.
REQUESTERS = frozenset({"approver", "customer_manager", "risk_officer"})
DIRECT_CHANGERS = {"unfreeze": frozenset({"approver"}), "reduce": frozenset({"approver"})}
LINE_CHANGE_PROCESS = "credit_line_change"
DRAWERS = frozenset({"integrator", "customer_manager"})
DRAWABLE = "active"


class CreditLines:
    """The credit-line book; one per process, no request state. `clock` is the bank's (naive UTC)."""

    def __init__(self, layer, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.layer = layer  # the process layer: the branch's resolved files for the risk and limit checks
        self.clock = clock

    def today(self) -> dt.date:
        """The business day in China, on the bank's clock."""
        return in_china(self.clock()).date()

    # -- granting (the credit_line process's last step) ------------------------------------------
    def activate(self, session: Session, grant: LineGrant) -> CreditLine:
        """The active line for a signed line contract; a retried step finds the line it made."""
        existing = session.scalar(select(CreditLine).where(CreditLine.application_id == grant.application_id))
        if existing is not None:
            return existing
        application = session.get(Application, grant.application_id)
        now = self.clock()
        granted_on = self.today()  # China's date, as the drawdowns' expiry check reads it
        line = CreditLine(
            id=str(uuid.uuid4()), branch_code=grant.branch_code, customer_id=application.customer_id,
            application_id=grant.application_id, product_code=grant.product_code,
            contract_number=grant.contract_number, limit_amount=grant.limit, annual_rate=grant.annual_rate,
            term_months=grant.term_months, granted_on=granted_on,
            expires_on=add_months(granted_on, grant.term_months), revolving=grant.revolving,
            status="active", renews_line_id=grant.renews_line_id, version=1, created_at=now, updated_at=now)
        session.add(line)
        session.flush()
        self._event(session, line, "granted", grant.actor, amount=grant.limit, reason=f"application {application.id}")
        if grant.renews_line_id:
            old = session.get(CreditLine, grant.renews_line_id, with_for_update=True)
            if old is not None and old.branch_code == line.branch_code:
                # Renewed, the old line takes no more drawdowns (one limit per household, not two);
                # its loans run on to their own maturity.
                if old.status in ("active", "frozen", "expired"):
                    old.status = "closed"
                self._event(session, old, "renewed", grant.actor, reason=f"renewed by line {line.id}")
        return line

    # -- reading ---------------------------------------------------------------------------------
    def line_for(self, session: Session, line_id: str, actor: User, *, for_update: bool = False) -> CreditLine:
        """The line, if the actor's branch may see it; another branch's line is a 404, as unknown."""
        query = select(CreditLine).where(CreditLine.id == line_id)
        line = session.scalar(query.with_for_update() if for_update else query)
        if line is None or not reaches(actor, line.branch_code):
            raise NotFound(f"Credit line {line_id} was not found", field="line_id")
        return line

    def outstanding(self, session: Session, line: CreditLine) -> Decimal:
        """The outstanding principal of the line's drawdowns, from the ledger's loan accounts."""
        loans = select(CreditLineDrawdown.loan_number).where(CreditLineDrawdown.line_id == line.id).distinct()
        total = session.scalar(select(func.coalesce(func.sum(LoanAccount.principal_outstanding), 0))
                               .where(LoanAccount.loan_number.in_(loans)))
        return Decimal(total).quantize(CENT)

    def is_expired(self, line: CreditLine) -> bool:
        """Expired by status, or a live line whose last day (China) has passed on the bank's clock."""
        return line.status == "expired" or (line.status in ("active", "frozen") and self.today() > line.expires_on)

    # -- drawing ---------------------------------------------------------------------------------
    def draw(self, session: Session, line_id: str, actor: User, body: dict, key: str) -> dict:
        if not DRAWERS & actor.role_set:
            raise Forbidden(f"A drawdown is made by {', '.join(sorted(DRAWERS))}; {actor.username} is neither")
        line = self.line_for(session, line_id, actor, for_update=True)
        self._refuse_undrawable(line)
        amount: Decimal = body["amount"]
        outstanding = self.outstanding(session, line)
        available = max(line.limit_amount - outstanding, Decimal("0")).quantize(CENT)
        if amount > available:
            raise InvalidInput(f"The drawdown of {amount} is above the line: available {available}",
                               code="above_available", field="amount",
                               fields={"amount": [f"must be at most the line's available {available}"]})
        product = session.get(Product, line.product_code)
        term = body.get("term_months") or product.min_term_months
        if not line.revolving and not product.min_term_months <= term <= product.max_term_months:
            raise InvalidInput("The drawdown does not fit the product's terms", fields={"term_months": [
                f"must be between {product.min_term_months} and {product.max_term_months} months "
                f"for product {product.code}"]})
        application = session.get(Application, line.application_id)
        ctx = self._context(session, line, actor)
        # The line's earlier drawdowns are in the exposure rows already (their loans carry the
        # line application's tags): the limits judge this drawdown's amount on top of them.
        data = {"applicant": application.payload["applicant"], "amount": amount, "approved_amount": amount}
        self._intercept(ctx, data)
        self._check_limits(ctx, data)
        loan_number = self._pay_out(session, line, application, amount, term, key)
        drawdown = CreditLineDrawdown(id=str(uuid.uuid4()), line_id=line.id, loan_number=loan_number,
                                      amount=amount, term_months=term if not line.revolving else 0,
                                      business_date=self.today(), drawn_by=actor.username, drawn_at=self.clock())
        session.add(drawdown)
        self._event(session, line, "drawn", actor.username, amount=amount, reason=f"loan {loan_number}")
        session.flush()
        return {"drawdown": drawdown_view(drawdown), "loan_id": loan_number,
                "credit_line": self.summary(session, line)}

    def _refuse_undrawable(self, line: CreditLine) -> None:
        if self.is_expired(line):
            raise LineExpired(line)
        if line.status != DRAWABLE:
            raise Conflict(f"Credit line {line.id} is {line.status}: no drawdown", code=f"line_{line.status}",
                           field="status")

    def _context(self, session: Session, line: CreditLine, actor: User) -> HandlerContext:
        """A handler context for the line's branch, so the drawdown checkpoint reads the same
        branch files (risk_rules.json, limits.json) with the same handlers as origination does."""
        files = self.layer.resolution.resolve(session, line.branch_code)
        branch = session.get(Branch, line.branch_code)

        def resource(name: str) -> str:
            if name not in files:
                raise NotFound(f"No file '{name}' is deployed for branch {line.branch_code}")
            return self.layer.file_contents.get(session, files[name].id)

        return HandlerContext(session=session, application_id=line.application_id, actor=actor.username,
                              now=self.clock(), branch={"code": branch.code, "name": branch.name,
                                                        "region": branch.region,
                                                        "tier1_capital_net": branch.tier1_capital_net},
                              product={"code": line.product_code}, resource=resource, services=self.layer.services)

    @staticmethod
    def _intercept(ctx: HandlerContext, data: dict) -> None:
        checked = check_risk(ctx, data)
        stops = [h for h in checked.risk_hits if h["code"] != BUREAU_NOT_CHECKED]
        if stops:
            raise Conflict("Drawdown stopped by risk interception at the drawdown checkpoint: "
                           + "; ".join(h["message"] for h in stops), code="risk_intercepted",
                           fields={"borrower": [f"{h['code']}: {h['message']}" for h in stops]})

    @staticmethod
    def _check_limits(ctx: HandlerContext, data: dict) -> None:
        checked = check_limits(ctx, data)
        if checked.risk_blocked:
            raise Conflict("Drawdown stopped by a limit: " + "; ".join(r["message"] for r in checked.decline_reasons),
                           code="limit_exceeded",
                           fields={"amount": [r["message"] for r in checked.decline_reasons]})

    def _pay_out(self, session: Session, line: CreditLine, application: Application, amount: Decimal, term: int,
                 key: str) -> str:
        terms = (application.summary.get("contract") or {}).get("terms") or {}
        posting_key = f"drawdown:{line.id}:{key}"
        today = self.today().isoformat()
        if line.revolving and line.revolving_loan_number:
            ledger.draw(session, line.revolving_loan_number, amount, posting_key=posting_key, business_date=today)
            return line.revolving_loan_number
        count = session.scalar(select(func.count()).where(CreditLineDrawdown.line_id == line.id))
        loan_number = f"{line.contract_number}-D{count + 1:03d}"
        product = session.get(Product, line.product_code)
        loan = ledger.open_loan(
            session, loan_number=loan_number, branch=line.branch_code, customer_id=application.id_number_hash,
            product_code=line.product_code, annual_rate=line.annual_rate, start_date=today,
            deposit_account=terms.get("deposit_account") or application.payload["applicant"]["deposit_account"],
            # a revolving line's one loan is for the whole limit, until the line expires
            principal=line.limit_amount if line.revolving else amount,
            term_months=_months_to_cover(self.today(), line.expires_on) if line.revolving else term,
            method="revolving" if line.revolving else product.repayment_method,
            # counted in the branch's limits under the line application's dimensions
            exposure_tags=self.layer.services["exposure"].dimensions(session, line.application_id))
        ledger.disburse(session, loan.id, posting_key=posting_key, business_date=today,
                        amount=amount if line.revolving else None)
        if line.revolving:
            line.revolving_loan_number = loan_number
        return loan_number

    # -- acting on a line --------------------------------------------------------------------------
    def freeze(self, session: Session, line_id: str, actor: User, form: dict) -> CreditLine:
        self._require(actor, FREEZERS, "freeze")
        line = self.line_for(session, line_id, actor, for_update=True)
        if line.status != "active":
            raise Conflict(f"Credit line {line.id} is {line.status}; only an active line is frozen", field="status")
        line.status = "frozen"
        self._event(session, line, "frozen", actor.username, reason=form["reason"])
        return line

    def unfreeze(self, session: Session, line_id: str, actor: User, form: dict) -> dict:
        return self._request_change(session, line_id, actor, "unfreeze", form)

    def reduce(self, session: Session, line_id: str, actor: User, form: dict) -> dict:
        return self._request_change(session, line_id, actor, "reduce", form)

    def _request_change(self, session: Session, line_id: str, actor: User, action: str, form: dict) -> dict:
        """Unfreeze or reduce through the branch's credit_line_change process: HQ's applies it at
        once (so only an approver may ask), a branch that requires an approval (BR002) waits for
        its approver, who may not be the one who asked. Checked now, so a change that cannot be
        made is refused at once, and again when it is applied."""
        if not REQUESTERS & actor.role_set:
            raise Forbidden(f"A line change is asked for by {' or '.join(sorted(REQUESTERS))}; "
                            f"{actor.username} is not one")
        line = self.line_for(session, line_id, actor, for_update=True)
        new_limit = form.get("new_limit")
        problem = self._change_problem(session, line, action, new_limit)
        if problem:
            raise problem
        application = session.get(Application, line.application_id)
        instance = self.layer.begin(session, LINE_CHANGE_PROCESS, line.branch_code, {
            "line_id": line.id, "line_action": action, "new_limit": None if new_limit is None else str(new_limit),
            "change_reason": form["reason"], "amount": new_limit if new_limit is not None else line.limit_amount,
            "customer_name": application.customer_name, "product_code": line.product_code},
            actor.username, correlation={"line_id": line.id})
        if instance.status == "completed" and not DIRECT_CHANGERS[action] & actor.role_set:
            # the branch applies changes without an approval: then only the approver may make one
            raise Forbidden(f"Branch {line.branch_code} applies a line change at once: only "
                            f"{' or '.join(sorted(DIRECT_CHANGERS[action]))} may {action} a line")
        if instance.status == "incident":
            raise Conflict(f"The line change stopped: {instance.incident}")
        return {**self.view(session, line, actor), "change": {
            "instance_id": instance.id, "action": action,
            "status": "applied" if instance.status == "completed" else "pending_approval"}}

    def _change_problem(self, session: Session, line: CreditLine, action: str, new_limit) -> Exception | None:
        if action == "unfreeze":
            if line.status != "frozen":
                return Conflict(f"Credit line {line.id} is {line.status}; only a frozen line is unfrozen",
                                field="status")
            return None
        if line.status not in ("active", "frozen"):
            return Conflict(f"Credit line {line.id} is {line.status}; it cannot be reduced", field="status")
        if new_limit is None or Decimal(new_limit) >= line.limit_amount:
            return InvalidInput("A reduction lowers the limit", fields={
                "new_limit": [f"must be below the current limit {line.limit_amount}"]})
        outstanding = self.outstanding(session, line)
        if Decimal(new_limit) < outstanding:
            return InvalidInput("A line is never reduced below what is drawn", fields={
                "new_limit": [f"must be at least the outstanding {outstanding}"]})
        return None

    def apply_change(self, session: Session, line_id: str, action: str, new_limit, reason: str, *,
                     requested_by: str, approved_by: str | None) -> str:
        """Apply an asked-for change (the process's last step); '' when done, else why not now."""
        line = session.scalar(select(CreditLine).where(CreditLine.id == line_id).with_for_update())
        problem = self._change_problem(session, line, action, new_limit)
        if problem:
            return problem.message
        note = reason if not approved_by else f"{reason} (asked by {requested_by}, approved by {approved_by})"
        actor = approved_by or requested_by
        if action == "unfreeze":
            line.status = "active"
            self._event(session, line, "unfrozen", actor, reason=note)
        else:
            line.limit_amount = Decimal(new_limit)
            self._event(session, line, "reduced", actor, limit_after=line.limit_amount, reason=note)
        return ""

    def expire_due(self, session: Session, business_date: dt.date) -> int:
        """Mark every active or frozen line whose expiry date has passed by `business_date` as
        expired (the after-EOD step); a drawdown checks the date itself, so this only records it."""
        due = session.scalars(select(CreditLine).where(CreditLine.status.in_(("active", "frozen")),
                                                       CreditLine.expires_on < business_date)).all()
        for line in due:
            line.status = "expired"
            self._event(session, line, "expired", "system", reason=f"expired on {line.expires_on.isoformat()}")
        return len(due)

    # -- internals ---------------------------------------------------------------------------------
    @staticmethod
    def _require(actor: User, roles: frozenset, what: str) -> None:
        if not roles & actor.role_set:
            raise Forbidden(f"A line is {what}d by {' or '.join(sorted(roles))}; {actor.username} is not one")

    def _event(self, session: Session, line: CreditLine, kind: str, actor: str, *, amount: Decimal | None = None,
               limit_after: Decimal | None = None, reason: str = "") -> None:
        now = self.clock()
        session.add(CreditLineEvent(line_id=line.id, kind=kind, actor=actor, at=now, amount=amount,
                                    limit_after=limit_after if limit_after is not None else line.limit_amount,
                                    reason=reason[:500]))
        line.version = (line.version or 0) + 1  # every change to the line bumps its version
        line.updated_at = now

    # -- views -------------------------------------------------------------------------------------
    def summary(self, session: Session, line: CreditLine) -> dict:
        outstanding = self.outstanding(session, line)
        return {"id": line.id, "status": self.status_of(line), "limit": str(line.limit_amount),
                "outstanding": str(outstanding),
                "available": str(max(line.limit_amount - outstanding, Decimal("0")).quantize(CENT)),
                "expires_on": line.expires_on.isoformat()}

    def status_of(self, line: CreditLine) -> str:
        """expired as soon as the date has passed, before the nightly step writes it."""
        return "expired" if self.is_expired(line) else line.status

    def view(self, session: Session, line: CreditLine, viewer: User | None = None) -> dict:
        """The line with its drawdowns and history; the history's reasons (staff's free text) are
        whole to those who work the branch, masked (redact_text) to others, as comments are."""
        shown = (lambda text: text) if works_in(viewer, line.branch_code) else redact_text
        drawdowns = session.scalars(select(CreditLineDrawdown).where(CreditLineDrawdown.line_id == line.id)
                                    .order_by(CreditLineDrawdown.drawn_at, CreditLineDrawdown.id)).all()
        events = session.scalars(select(CreditLineEvent).where(CreditLineEvent.line_id == line.id)
                                 .order_by(CreditLineEvent.id)).all()
        view = {**self.summary(session, line), "branch": line.branch_code, "customer_id": line.customer_id,
                "application_id": line.application_id, "product": line.product_code,
                "contract_number": line.contract_number, "annual_rate": str(line.annual_rate),
                "term_months": line.term_months, "granted_on": line.granted_on.isoformat(),
                "revolving": line.revolving, "revolving_loan_id": line.revolving_loan_number,
                "renews_line_id": line.renews_line_id, "version": line.version,
                "drawdowns": [drawdown_view(d) for d in drawdowns],
                "events": [{"kind": e.kind, "actor": e.actor, "at": e.at.isoformat() + "Z",
                            "amount": None if e.amount is None else str(e.amount),
                            "limit_after": None if e.limit_after is None else str(e.limit_after),
                            "reason": shown(e.reason)} for e in events]}
        if view["status"] == "expired":
            view["renewal"] = renewal_offer(line)
        return view

    def lines_of_customer(self, session: Session, customer_id: str) -> list[dict]:
        lines = session.scalars(select(CreditLine).where(CreditLine.customer_id == customer_id)
                                .order_by(CreditLine.created_at)).all()
        return [self.summary(session, line) for line in lines]


class LineChanges(UseCase):
    """The credit_line_change process: the layer's defaults (its tasks are about the amount, the
    customer and the product in its data), with maker-checker: who asked cannot approve."""
    maker_checker = True


class LineExpired(Conflict):
    """An expired line refuses drawdowns; the answer offers renewal (续贷): a new line application
    that names this line, re-rated and re-reviewed as any."""
    code = "line_expired"

    def __init__(self, line: CreditLine) -> None:
        super().__init__(f"Credit line {line.id} expired on {line.expires_on.isoformat()}: no drawdown; "
                         f"apply for a renewal (POST /api/v1/credit-lines with renews_line_id)",
                         fields={"status": ["expired"], "renewal": [f"POST /api/v1/credit-lines with "
                                                                    f"renews_line_id {line.id}"]})
        self.details = {"renewal": renewal_offer(line)}


def renewal_offer(line: CreditLine) -> dict:
    return {"href": "/api/v1/credit-lines", "method": "POST", "renews_line_id": line.id,
            "note": "a renewal (续贷) is a new line application: rated and reviewed again"}


def drawdown_view(drawdown: CreditLineDrawdown) -> dict:
    return {"id": drawdown.id, "loan_id": drawdown.loan_number, "amount": str(drawdown.amount),
            "term_months": drawdown.term_months or None, "business_date": drawdown.business_date.isoformat(),
            "drawn_by": drawdown.drawn_by}


def _months_to_cover(start: dt.date, end: dt.date) -> int:
    """The fewest whole months from `start` that reach `end`: a revolving line's loan runs at least
    as long as the line, so the line's own expiry is what stops a draw."""
    months = max(1, (end.year - start.year) * 12 + end.month - start.month)
    return months + 1 if add_months(start, months) < end else months
