"""Maker-checker classification in the ledger: with a reviewing policy the batch moves a loan from
正常 to 关注 itself, holds a downgrade to 次级 or worse and every upgrade as a proposal, and only a
decided proposal moves the principal between the loans-receivable accounts.

Thresholds are strict (1 day 关注, 2 次级, 3 可疑) so each class is one batch apart; the loan is
the helpers' 12,000.00 at 6 %, twelve equal-principal months from 2024-01-15, first due
2024-02-15 (1,000.00 principal + 60.00 interest), never paid until the test says so.
"""
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from ledger import service
from ledger.classification_review import pending_proposal_for
from ledger.errors import InvalidInput, LoanStateError
from ledger.tables import ClassificationProposal, LoanChange
from tests.ledger.helpers import assert_books_consistent, open_and_disburse

REVIEWED = service.ClassificationPolicy(normal_max=0, special_mention_max=1, substandard_max=2, doubtful_max=3,
                                        review=True)


def close(database, day):
    with database.unit_of_work() as s:
        return service.run_eod(s, day, policy=REVIEWED)


def standing(database, loan_id):
    with database.unit_of_work() as s:
        view = service.loan_view(s, loan_id)
        loans = {c: service.account_balance(s, "B01", f"loans_{c}") for c in ("normal", "special_mention",
                                                                            "substandard", "doubtful")}
        proposals = [(p.from_class, p.to_class, p.status) for p in
                     s.query(ClassificationProposal).order_by(ClassificationProposal.id)]
        assert_books_consistent(s, [loan_id], ["B01"])
    return view["days_past_due"], view["classification"], {k: v for k, v in loans.items() if v}, proposals


def close_until_past_due(database, loan_id, days):
    day = date(2024, 2, 15)
    while True:
        result = close(database, day)
        if standing(database, loan_id)[0] >= days:
            return day, result
        day += timedelta(days=1)
        assert day < date(2024, 3, 1), "the loan never fell past due"


def test_the_batch_moves_to_special_mention_itself_and_holds_the_downgrade_to_substandard(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    day, result = close_until_past_due(database, loan.id, 1)
    assert standing(database, loan.id)[1:] == ("special_mention", {"special_mention": D("12000.00")}, [])
    assert (result.reclassified, result.proposed) == (1, 0)

    result = close(database, day + timedelta(days=1))  # 2 days past due: 次级 by the thresholds
    assert (result.reclassified, result.proposed) == (0, 1)
    assert standing(database, loan.id)[1:] == ("special_mention", {"special_mention": D("12000.00")},
                                               [("special_mention", "substandard", "pending")])
    # A third day points to 可疑: the proposal the risk officer has not decided yet is replaced.
    close(database, day + timedelta(days=2))
    assert standing(database, loan.id)[3] == [("special_mention", "substandard", "superseded"),
                                              ("special_mention", "doubtful", "pending")]
    with database.unit_of_work() as s:
        proposal = pending_proposal_for(s, loan.id)
        with pytest.raises(InvalidInput) as same_person:
            service.decide_proposal(s, proposal.id, approve=True, reason="三期未还", proposed_by="cm-a",
                                    decided_by="cm-a", comment="", business_date=day + timedelta(days=3))
        assert same_person.value.field == "decided_by" and "four eyes" in same_person.value.message
        service.decide_proposal(s, proposal.id, approve=True, reason="三期未还，经营停滞", proposed_by="cm-a",
                                decided_by="risk-b", comment="同意", business_date=day + timedelta(days=3))
    assert standing(database, loan.id)[1:3] == ("doubtful", {"doubtful": D("12000.00")})
    with database.unit_of_work() as s:
        superseded = s.query(ClassificationProposal).filter_by(status="superseded").one()
        with pytest.raises(LoanStateError):
            service.decide_proposal(s, superseded.id, approve=True, reason="x", proposed_by="cm-a",
                                    decided_by="risk-b", comment="", business_date=day + timedelta(days=3))
        change = s.query(LoanChange).filter_by(loan_id=loan.id, kind="classification").one()
        assert (change.old_value, change.new_value, change.approved_by) == ("special_mention", "doubtful", "risk-b")
    # The next night starts from the approved class: four days past due is 损失, proposed anew.
    result = close(database, day + timedelta(days=3))
    assert (result.reclassified, result.proposed) == (0, 1)
    assert standing(database, loan.id)[3][-1] == ("doubtful", "loss", "pending")


def test_an_upgrade_waits_for_review_and_a_rejection_holds(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    day, _ = close_until_past_due(database, loan.id, 1)
    close(database, day + timedelta(days=1))   # 次级 proposed
    with database.unit_of_work() as s:        # the arrears are paid before anyone decided
        service.repay(s, loan.id, "1200.00", posting_key="r1", value_date=day + timedelta(days=2))
    close(database, day + timedelta(days=2))
    dpd, klass, loans, proposals = standing(database, loan.id)
    assert (dpd, klass) == (0, "special_mention")
    # 关注 → 正常 is an upgrade: it is held too; the downgrade it replaced is superseded.
    assert proposals == [("special_mention", "substandard", "superseded"),
                         ("special_mention", "normal", "pending")]
    with database.unit_of_work() as s:
        service.decide_proposal(s, pending_proposal_for(s, loan.id).id, approve=False, reason="刚结清，继续观察",
                                proposed_by="cm-a", decided_by="risk-b", comment="观察一期",
                                business_date=day + timedelta(days=3))
    close(database, day + timedelta(days=3))
    dpd, klass, loans, proposals = standing(database, loan.id)
    assert (klass, set(loans)) == ("special_mention", {"special_mention"})  # the books agree (checked above)
    assert proposals[-1] == ("special_mention", "normal", "rejected")  # not proposed again
    assert len(proposals) == 2


def test_a_proposal_the_books_no_longer_support_is_withdrawn(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    day, _ = close_until_past_due(database, loan.id, 1)
    with database.unit_of_work() as s:
        service.repay(s, loan.id, "1200.00", posting_key="r1", value_date=day + timedelta(days=1))
    close(database, day + timedelta(days=1))
    assert standing(database, loan.id)[3] == [("special_mention", "normal", "pending")]
    # Nobody decided the upgrade before the next installment (2024-03-15) fell past due: the
    # books say 关注 again, the loan's class, so the proposal is withdrawn and nothing moves.
    next_day = day + timedelta(days=2)
    while standing(database, loan.id)[0] == 0:
        close(database, next_day)
        next_day += timedelta(days=1)
        assert next_day < date(2024, 4, 1)
    dpd, klass, loans, proposals = standing(database, loan.id)
    assert (dpd, klass, set(loans), proposals) == (1, "special_mention", {"special_mention"},
                                                   [("special_mention", "normal", "withdrawn")])
