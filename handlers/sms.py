"""Text messages to borrowers through the bank's SMS gateway (短信平台), and the reminder steps.

    gateway = SmsGateway("http://sms.internal")
    gateway.send("13800138000", "...", reference="instance:step")   # the gateway's message id

Each message carries a reference made from the instance and the step, and the gateway treats a
second message under one reference as the first: a retried step never texts a borrower twice.
Connection errors, timeouts and 5xx raise SmsUnavailable, which makes the step an incident that
the worker retries; there are no retries inside one call.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import requests

from handlers.context import HandlerContext
from handlers.errors import HandlerError


class SmsUnavailable(HandlerError):
    code = "sms_unavailable"


class SmsRejected(HandlerError):
    kind = "invalid"
    code = "sms_rejected"


class SmsGateway:
    def __init__(self, base_url: str, *, connect_timeout: float = 3.05, read_timeout: float = 5.0,
                 http: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self._http = http or requests.Session()

    def send(self, phone: str, text: str, *, reference: str) -> str:
        try:
            response = self._http.post(f"{self.base_url}/v1/messages", timeout=self.timeout,
                                       json={"to": phone, "text": text, "reference": reference})
        except requests.RequestException as error:
            raise SmsUnavailable(f"SMS gateway unreachable: {error.__class__.__name__}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise SmsUnavailable(f"SMS gateway answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict) or not body.get("id"):
            raise SmsRejected(f"SMS gateway refused the message ({response.status_code})")
        return str(body["id"])


@dataclass(frozen=True)
class SmsSent:
    sms_status: str          # sent | no_phone | no_gateway
    sms_id: str | None


def overdue_reminder(ctx: HandlerContext, data: dict) -> SmsSent:
    """催收短信: the borrower's loan is past due; the text names the amount and the days."""
    amount = Decimal(str(data.get("overdue_amount") or "0"))
    text = (f"【农商银行】尊敬的{data.get('customer_name') or '客户'}：您的贷款{data['loan_id']}已逾期"
            f"{data.get('days_past_due', 0)}天，逾期金额¥{amount:,.2f}，请尽快还款。如已还款请忽略。")
    return _send(ctx, data, text, f"{ctx.instance_id}:overdue:{data.get('steps_done', 0)}")


def _send(ctx: HandlerContext, data: dict, text: str, reference: str) -> SmsSent:
    phone = data.get("phone")
    if not phone:
        return SmsSent("no_phone", None)
    gateway = ctx.services.get("sms")
    if gateway is None:
        # No gateway configured (LOANFLOW_SMS_URL): the step is recorded as not sent, visibly, and
        # the ladder goes on; a missing text must not stop a phone call from being scheduled.
        return SmsSent("no_gateway", None)
    return SmsSent("sent", gateway.send(phone, text, reference=reference))
