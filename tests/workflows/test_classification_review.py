"""Five-level classification with maker-checker (五级分类认定), as the worker runs it (`catch_up`,
the same clock as `loanflow tick`): the nightly batch moves a loan from 正常 to 关注 itself, but a
downgrade to 次级 and every upgrade wait as a review — the customer manager's reason, then the
branch risk officer's decision, two different people — before the ledger records the class.

The loan is 12,000.00 at 6 %, twelve equal-principal months from 2024-01-15 (first installment
1,000.00 + 60.00 due 2024-02-15), never paid until a test says so; 91 days past due is 次级.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from ledger import service as ledger
from ledger.tables import ClassificationProposal, LoanChange
from tests.ledger.helpers import assert_books_consistent, open_and_disburse
from workflows.catch_up import catch_up
from workflows.clock import CHINA
from workflows.models import ProcessInstance
from workflows.timers import clock_at
from workflows.worker import end_of_day


def china(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=CHINA)


def overdue_loan(services) -> int:
    with services.db.unit_of_work() as session:
        loan = open_and_disburse(session, "LN-CLASS-1", branch="BR001")
    end_of_day(services.db, dt.date(2024, 1, 31))
    return loan.id


def reviews(client, headers) -> list[dict]:
    items = client.get("/api/v1/tasks?process=classification_review&loan_id=LN-CLASS-1", headers=headers)
    assert items.status_code == 200, items.get_json()
    return items.get_json()["items"]


def loan_class(services, loan_id) -> tuple[str, dict]:
    with services.db.unit_of_work() as session:
        assert_books_consistent(session, [loan_id], ["BR001"])
        balances = {c: ledger.account_balance(session, "BR001", f"loans_{c}")
                    for c in ("normal", "special_mention", "substandard", "doubtful", "loss")}
        return ledger.load_loan(session, loan_id).classification, {k: v for k, v in balances.items() if v}


def test_a_downgrade_to_substandard_waits_for_the_customer_managers_reason_and_the_risk_officers_approval(
        client, token_for, services):
    loan_id = overdue_loan(services)
    catch_up(services.db, services.origination, at=china(dt.date(2024, 5, 1), 9))
    assert loan_class(services, loan_id) == ("special_mention", {"special_mention": Decimal("12000.00")})
    cm, risk = token_for("cm-BR001"), token_for("risk-BR001")
    assert reviews(client, cm) == []

    catch_up(services.db, services.origination, at=china(dt.date(2024, 5, 20), 9))
    # 91 days past due: 次级 by the thresholds, but the batch only proposed it.
    assert loan_class(services, loan_id)[0] == "special_mention"
    [task] = reviews(client, cm)
    assert task["task_key"] == "give_reason" and task["role"] == "customer_manager"
    assert (task["context"]["from_class"], task["context"]["to_class"]) == ("special_mention", "substandard")
    assert reviews(client, risk) == []   # the risk officer decides after the reason, not before

    with clock_at(lambda: china(dt.date(2024, 5, 20), 10)):
        empty = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=cm, json={"decision": "propose"})
        assert empty.status_code == 422 and "reason" in empty.get_json()["fields"]
        given = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=cm,
                            json={"decision": "propose", "reason": "逾期91天，养殖场停产"})
        assert given.status_code == 200, given.get_json()
        [decision] = reviews(client, risk)
        assert decision["task_key"] == "decide_class"
        assert decision["context"]["class_reason"] == "逾期91天，养殖场停产"
        assert decision["context"]["proposed_by"] == "cm-BR001"
        # The customer manager cannot decide it: not their role, so not a task they can see.
        assert client.post(f"/api/v1/tasks/{decision['id']}/complete", headers=cm,
                           json={"decision": "approve"}).status_code == 404
        approved = client.post(f"/api/v1/tasks/{decision['id']}/complete", headers=risk,
                               json={"decision": "approve", "comment": "同意下调"})
        assert approved.status_code == 200, approved.get_json()

    assert loan_class(services, loan_id) == ("substandard", {"substandard": Decimal("12000.00")})
    with services.db.sessions() as session:
        change = session.scalar(sa.select(LoanChange).where(LoanChange.kind == "classification"))
        assert (change.old_value, change.new_value, change.approved_by) == ("special_mention", "substandard",
                                                                            "risk-BR001")
        assert change.reason == "逾期91天，养殖场停产"
    # The next nights agree with the approved class: no new review.
    catch_up(services.db, services.origination, at=china(dt.date(2024, 5, 23), 9))
    assert reviews(client, cm) == [] and loan_class(services, loan_id)[0] == "substandard"


def test_a_review_the_books_no_longer_support_is_withdrawn_and_the_upgrade_is_reviewed_in_its_place(
        client, token_for, services):
    loan_id = overdue_loan(services)
    catch_up(services.db, services.origination, at=china(dt.date(2024, 5, 20), 9))
    cm = token_for("cm-BR001")
    [old_task] = reviews(client, cm)
    # Everything past due is paid at the counter before anyone gave a reason.
    with services.db.unit_of_work() as session:
        arrears = ledger.loan_standing(session, loan_id, dt.date(2024, 5, 20)).overdue_amount
        ledger.repay(session, loan_id, arrears, posting_key="counter:LN-CLASS-1", value_date="2024-05-20")
    catch_up(services.db, services.origination, at=china(dt.date(2024, 5, 21), 9))

    with services.db.sessions() as session:
        old = session.get(ProcessInstance, old_task["instance_id"])
        assert (old.status, old.stage) == ("completed", "withdrawn")
        statuses = session.scalars(sa.select(ClassificationProposal.status).order_by(ClassificationProposal.id)).all()
    assert statuses == ["superseded", "pending"]
    [task] = reviews(client, cm)   # 关注 → 正常 is an upgrade: reviewed too
    assert (task["context"]["from_class"], task["context"]["to_class"]) == ("special_mention", "normal")
    assert loan_class(services, loan_id)[0] == "special_mention"


def complete(client, headers, task, **body):
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers, json=body)
    assert done.status_code == 200, done.get_json()


def test_a_downgrade_to_doubtful_needs_head_office_risk_after_the_branch(client, token_for, services):
    loan_id = overdue_loan(services)
    cm, risk, hq_risk = token_for("cm-BR001"), token_for("risk-BR001"), token_for("hq-risk")
    catch_up(services.db, services.origination, at=china(dt.date(2024, 5, 20), 9))
    with clock_at(lambda: china(dt.date(2024, 5, 20), 10)):
        [task] = reviews(client, cm)
        complete(client, cm, task, decision="propose", reason="逾期超过90天")
        complete(client, risk, reviews(client, risk)[0], decision="approve")
    assert loan_class(services, loan_id)[0] == "substandard"   # 次级: the branch's risk officer suffices

    catch_up(services.db, services.origination, at=china(dt.date(2024, 8, 20), 9))   # over 180 days: 可疑
    [task] = reviews(client, cm)
    assert task["context"]["to_class"] == "doubtful"
    with clock_at(lambda: china(dt.date(2024, 8, 20), 10)):
        complete(client, cm, task, decision="propose", reason="逾期超过180天，已起诉")
        complete(client, risk, reviews(client, risk)[0], decision="approve", comment="同意")
        assert loan_class(services, loan_id)[0] == "substandard"   # not yet: head office decides too
        [hq_task] = reviews(client, hq_risk)
        assert hq_task["task_key"] == "hq_decide_class" and hq_task["level"] == 3
        complete(client, hq_risk, hq_task, decision="approve", comment="总行同意")
    assert loan_class(services, loan_id) == ("doubtful", {"doubtful": Decimal("12000.00")})
