"""The bureau client against the simulator on a real HTTP port on 127.0.0.1."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests

from scoring.bureau import BureauClient, CircuitBreaker
from scoring.errors import BureauRejected, BureauUnavailable
from scoring.risk import check_risk

PERSON = "330102199001011234"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def control(base_url, **switches):
    return requests.post(f"{base_url}/control", json=switches, timeout=5).json()


def served(base_url):
    return requests.get(f"{base_url}/control", timeout=5).json()["requests"]


def client_for(base_url, **options):
    options.setdefault("sleep", lambda seconds: None)
    options.setdefault("read_timeout", 2.0)
    return BureauClient(base_url, **options)


def test_a_report_comes_back_typed_and_the_same_for_the_same_person(bureau_server):
    first = client_for(bureau_server).report(PERSON)
    second = client_for(bureau_server).report(PERSON)
    assert first == second
    assert first.has_record and type(first.overdue_amount) is Decimal and 0 <= first.inquiries_3m <= 9


def test_a_person_is_asked_for_once_a_day(bureau_server):
    today = [date(2026, 11, 22)]
    client = client_for(bureau_server, today=lambda: today[0])
    client.report(PERSON)
    client.report(PERSON)
    assert served(bureau_server) == 1
    today[0] += timedelta(days=1)
    client.report(PERSON)
    assert served(bureau_server) == 2


def test_a_brief_outage_is_ridden_out_by_retries(bureau_server):
    control(bureau_server, fail_next=2)
    sleeps = []
    report = client_for(bureau_server, sleep=sleeps.append, max_attempts=3).report(PERSON)
    assert report.id_number == PERSON and served(bureau_server) == 3
    assert len(sleeps) == 2 and sleeps[0] <= sleeps[1]  # backoff grows


def test_backoff_doubles_up_to_its_cap():
    client = BureauClient("http://127.0.0.1:9", backoff_base=0.2, backoff_cap=1.0)
    for attempt, ceiling in [(0, 0.2), (1, 0.4), (2, 0.8), (3, 1.0), (6, 1.0)]:
        delay = client._backoff(attempt)
        assert ceiling / 2 <= delay <= ceiling


def test_when_the_bureau_stays_down_the_spent_retries_raise_bureau_unavailable(bureau_server):
    control(bureau_server, down=True)
    with pytest.raises(BureauUnavailable) as caught:
        client_for(bureau_server, max_attempts=3).report(PERSON)
    assert caught.value.code == "bureau_unavailable" and "after 3 attempts" in caught.value.message
    assert served(bureau_server) == 3


def test_a_slow_bureau_times_out_and_counts_as_unavailable(bureau_server):
    control(bureau_server, delay=1.0)
    with pytest.raises(BureauUnavailable, match="Timeout"):
        client_for(bureau_server, read_timeout=0.2, max_attempts=2).report(PERSON)


def test_an_unreachable_bureau_is_unavailable_not_a_crash():
    with pytest.raises(BureauUnavailable, match="ConnectionError"):
        client_for("http://127.0.0.1:9", max_attempts=2, connect_timeout=0.5).report(PERSON)


def test_the_breaker_opens_after_repeated_failures_and_then_fails_fast(bureau_server):
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_after=30, clock=clock)
    client = client_for(bureau_server, breaker=breaker, max_attempts=3)
    control(bureau_server, down=True)
    with pytest.raises(BureauUnavailable):
        client.report(PERSON)
    assert breaker.state == "open" and served(bureau_server) == 3
    with pytest.raises(BureauUnavailable, match="circuit is open"):
        client.report("330102199001019999")
    assert served(bureau_server) == 3  # no request was made


def test_the_breaker_lets_one_trial_through_after_the_pause_and_closes_when_the_bureau_is_back(bureau_server):
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_after=30, clock=clock)
    client = client_for(bureau_server, breaker=breaker, max_attempts=2)
    control(bureau_server, down=True)
    with pytest.raises(BureauUnavailable):
        client.report(PERSON)
    control(bureau_server, down=False)
    clock.now += 31
    assert breaker.state == "half_open"
    assert client.report(PERSON).id_number == PERSON
    assert breaker.state == "closed"


def test_a_failed_trial_reopens_the_breaker(bureau_server):
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_after=30, clock=clock)
    client = client_for(bureau_server, breaker=breaker, max_attempts=2)
    control(bureau_server, down=True)
    with pytest.raises(BureauUnavailable):
        client.report(PERSON)
    clock.now += 31
    with pytest.raises(BureauUnavailable):
        client.report(PERSON)
    assert breaker.state == "open"


def test_a_malformed_id_number_is_rejected_without_retrying(bureau_server):
    with pytest.raises(BureauRejected):
        client_for(bureau_server).report("not-an-id")
    assert served(bureau_server) == 1


def test_a_person_without_a_bureau_file_gets_an_empty_report_not_an_error(bureau_server):
    report = client_for(bureau_server).report("33010219900101123X")
    assert not report.has_record and report.inquiries_3m == 0


def test_a_scripted_report_drives_the_inquiry_warning(bureau_server):
    control(bureau_server, reports={PERSON: {"inquiries_3m": 9, "lender_count": 2, "overdue_accounts": 0}})
    facts = {"bureau": client_for(bureau_server).report(PERSON).as_facts()}
    hits = check_risk("application", {"id_number": PERSON}, facts, {})
    assert [(hit.code, hit.severity) for hit in hits] == [("W003", "warn")]
