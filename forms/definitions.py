"""Declarative definitions of every form a person or an integrator fills in.

Field types: string, url, money (a decimal with at most two places, as a string or a
JSON number), decimal, integer, boolean, datetime, date, choice, choice_list, code_list (short
capital codes such as branch codes), object, key_values
(short names to text, e.g. correlation keys), json_object (free data for a process), object_list (a
bounded list of objects with their own fields). A field may say "not_more_than": <other field> for a
cross-field check; a string may say "check": "resident_id" (the GB 11643 check digit and birth date).

One definition serves the JSON API (compiled to a marshmallow schema by forms.compiler) and,
later, the HTML pages (the same field list renders the inputs). A user task in BPMN names its
form by the key in FORMS.
"""
from __future__ import annotations

CHOICES = {
    "purpose": ["planting", "livestock", "agri_machinery", "business", "consumption", "housing", "education"],
    "guarantee_method": ["credit", "guarantee", "mortgage", "pledge"],
    "customer_type": ["farm_household", "individual_business", "salaried"],
    "income_source": ["crop", "livestock", "wage", "business", "fishery", "forestry", "other"],
    "industry": ["agriculture", "manufacturing", "retail", "services", "construction", "other"],
    "review_decision": ["approve", "reject", "return"],
    "investigation_decision": ["approve", "reject"],
    "contact_outcome": ["promise_to_pay", "paid", "unreachable", "dispute"],
    "legal_measure": ["lawsuit_filed", "payment_order", "enforcement", "settlement", "not_pursued"],
    "approval_decision": ["approve", "reject"],
    "classification_proposal": ["propose"],
    "change_type": ["rate_change", "repayment_account", "repayment_method", "guarantee", "customer_data", "extension"],
    "repayment_method": ["equal_installment", "equal_principal", "bullet", "interest_only"],
    "fund_use": ["as_agreed", "partly_diverted", "diverted", "not_verified"],
    "risk_opinion": ["normal", "attention", "adverse"],
    "risk_measure": ["monitor", "raise_warning", "reduce_line", "freeze_line", "recall_early"],
    "consent_scope": ["credit_bureau"],
    "consent_method": ["e_sign", "paper", "app", "recorded_call"],
    "relation": ["self", "spouse", "child", "parent", "sibling", "grandparent", "grandchild", "other"],

    "role": ["customer_manager", "reviewer", "approver", "risk_officer", "integrator", "hq_approver", "hq_risk",
             "analyst", "admin", "operations"],
    "org_unit_kind": ["branch", "outlet"],
    "channel": ["mobile", "counter", "partner"],
    "grant_type": ["client_credentials"],
    "warning_measure": ["contacted_borrower", "site_visit", "post_loan_check", "monitor", "reduce_line",
                        "freeze_line", "recall_early", "no_action"],
}

MAX_AMOUNT = "100000000"  # no single application above 100 million yuan gets past the edge

APPLICANT = [
    {"name": "name", "type": "string", "required": True, "max_length": 60, "label": "Full name",
     "pattern": r"^[^\x00-\x1f]*\S[^\x00-\x1f]*$", "pattern_message": "must be a name, not blank or control characters"},
    {"name": "id_number", "type": "string", "required": True, "pattern": r"^[0-9]{17}[0-9Xx]$",
     "label": "Resident ID number", "pattern_message": "must be 17 digits followed by a digit or X"},
    {"name": "phone", "type": "string", "required": True, "pattern": r"^1[0-9]{10}$",
     "label": "Mobile phone", "pattern_message": "must be an 11-digit mobile number"},
    {"name": "monthly_income", "type": "money", "required": True, "min": "0", "max": "10000000",
     "label": "Monthly income (yuan)"},
    {"name": "deposit_account", "type": "string", "required": True, "max_length": 32,
     "pattern": r"^[0-9]{10,32}$", "pattern_message": "must be the account number (10 to 32 digits)",
     "label": "Deposit account for disbursement and repayment"},
    {"name": "region", "type": "string", "required": False, "max_length": 60, "label": "Region"},
    # Limits are kept per industry and customer type, so both are required.
    {"name": "industry", "type": "choice", "choices": "industry", "required": True, "label": "Industry"},
    {"name": "customer_type", "type": "choice", "choices": "customer_type", "required": True,
     "label": "Customer type"},
    {"name": "years_at_address", "type": "integer", "required": False, "min": 0, "max": 100},
    {"name": "land_mu", "type": "decimal", "required": False, "min": "0", "max": "100000",
     "label": "Farmland (mu)"},
    {"name": "livestock_head", "type": "integer", "required": False, "min": 0, "max": 1000000},
    {"name": "family_members", "type": "integer", "required": True, "min": 1, "max": 50},
    {"name": "labourers", "type": "integer", "required": True, "min": 0, "max": 50,
     "not_more_than": "family_members"},
    {"name": "income_sources", "type": "choice_list", "choices": "income_source", "required": False},
    {"name": "existing_debt", "type": "money", "required": False, "min": "0", "max": "1000000000"},
    {"name": "credit_village", "type": "boolean", "required": False, "label": "From a credit village"},
    {"name": "credit_household", "type": "boolean", "required": False, "label": "Credit household"},
]

RESIDENT_ID = {"type": "string", "pattern": r"^[0-9]{17}[0-9Xx]$", "check": "resident_id",
               "label": "Resident ID number", "pattern_message": "must be 17 digits followed by a digit or X"}

# The customer register (客户档案): a farm household or an individual, keyed by the resident ID number
# within a branch. Everything but the key can be changed later, with history.
FAMILY_MEMBER = [
    {"name": "name", "type": "string", "required": True, "max_length": 60, "pattern": r"\S",
     "pattern_message": "must be a name"},
    {"name": "relation", "type": "choice", "choices": "relation", "required": True},
    {**RESIDENT_ID, "name": "id_number", "required": False},
    {"name": "birth_year", "type": "integer", "required": False, "min": 1900, "max": 2100},
    {"name": "is_labourer", "type": "boolean", "required": False, "label": "Works (labour force)"},
    {"name": "occupation", "type": "string", "required": False, "max_length": 60},
]
ADDRESS = [  # region down to the village group (村民小组)
    {"name": name, "type": "string", "required": False, "max_length": 60}
    for name in ("province", "city", "county", "township", "village", "village_group")
]
CUSTOMER_DETAILS = [
    {"name": "name", "type": "string", "required": True, "max_length": 60, "label": "Full name",
     "pattern": r"^[^\x00-\x1f]*\S[^\x00-\x1f]*$", "pattern_message": "must be a name, not blank or control characters"},
    {"name": "phone", "type": "string", "required": False, "pattern": r"^1[0-9]{10}$",
     "label": "Mobile phone", "pattern_message": "must be an 11-digit mobile number"},
    {"name": "customer_type", "type": "choice", "choices": "customer_type", "required": True},
    {"name": "industry", "type": "choice", "choices": "industry", "required": False},
    {"name": "region", "type": "string", "required": False, "max_length": 60,
     "label": "Region (the limit dimension)"},
    {"name": "address", "type": "object", "required": False, "fields": ADDRESS},
    {"name": "family_members", "type": "object_list", "required": False, "fields": FAMILY_MEMBER, "max_items": 30},
    {"name": "household_size", "type": "integer", "required": False, "min": 1, "max": 50},
    {"name": "labourers", "type": "integer", "required": False, "min": 0, "max": 50,
     "not_more_than": "household_size"},
    {"name": "land_mu", "type": "decimal", "required": False, "min": "0", "max": "100000", "label": "Farmland (mu)"},
    {"name": "livestock_head", "type": "integer", "required": False, "min": 0, "max": 1000000},
    {"name": "assets", "type": "money", "required": False, "min": "0", "max": "1000000000",
     "label": "Household assets (yuan)"},
    {"name": "debts", "type": "money", "required": False, "min": "0", "max": "1000000000",
     "label": "Household debts (yuan)"},
    {"name": "monthly_income", "type": "money", "required": False, "min": "0", "max": "10000000",
     "label": "Monthly income (yuan)"},
    {"name": "income_sources", "type": "choice_list", "choices": "income_source", "required": False},
    {"name": "credit_village", "type": "boolean", "required": False, "label": "From a credit village"},
    {"name": "credit_household", "type": "boolean", "required": False, "label": "Credit household"},
    {"name": "manager", "type": "string", "required": False, "max_length": 64,
     "label": "Responsible customer manager (username)"},
]

# The customer's authorisation for queries about them (数据查询授权). Given without a date it is
# given now; without an end, it holds for CONSENT_DEFAULT_DAYS (workflows.consents).
CONSENT = [
    {"name": "method", "type": "choice", "choices": "consent_method", "required": True,
     "label": "How the customer authorised (e-signature, paper, in the app, recorded call)"},
    {"name": "channel", "type": "string", "required": True, "max_length": 32, "pattern": r"^[a-z][a-z0-9_]*$",
     "pattern_message": "must be a channel code such as mobile, counter or partner"},
    {"name": "reference", "type": "string", "required": True, "max_length": 128, "pattern": r"\S",
     "pattern_message": "must name the signed authorisation (its document or record number)"},
    {"name": "granted_at", "type": "datetime", "required": False, "label": "When the customer authorised"},
    {"name": "valid_until", "type": "date", "required": False, "label": "Last day the authorisation holds"},
]

FORMS: dict[str, dict] = {
    "consent": {
        "title": "Record a customer's authorisation for queries",
        "fields": [{"name": "scope", "type": "choice", "choices": "consent_scope", "required": True}, *CONSENT],
    },
    "customer": {
        "title": "Register a customer",
        "fields": [
            {"name": "branch", "type": "string", "required": True, "max_length": 16, "label": "Branch code"},
            {**RESIDENT_ID, "name": "id_number", "required": True},
            *CUSTOMER_DETAILS,
        ],
    },
    "customer_change": {
        "title": "Change a customer's data",
        "fields": [
            {**spec, "required": False} for spec in CUSTOMER_DETAILS
        ] + [{"name": "reason", "type": "string", "required": False, "max_length": 500,
              "label": "Why the data changed (kept in the history)"}],
    },
    "customer_search": {
        "title": "Find a customer by resident ID number",
        "fields": [{**RESIDENT_ID, "name": "id_number", "required": True}],
    },
    "application": {
        "title": "Loan application",
        "fields": [
            {"name": "branch", "type": "string", "required": True, "max_length": 16, "label": "Branch code"},
            {"name": "product", "type": "string", "required": True, "max_length": 32, "label": "Product code"},
            {"name": "amount", "type": "money", "required": True, "min": "0.01", "max": MAX_AMOUNT,
             "label": "Amount (yuan)"},
            {"name": "term_months", "type": "integer", "required": True, "min": 1, "max": 360},
            {"name": "purpose", "type": "choice", "choices": "purpose", "required": True},
            {"name": "guarantee_method", "type": "choice", "choices": "guarantee_method", "required": True},
            {"name": "repayment_method", "type": "choice", "choices": "repayment_method", "required": False,
             "label": "Repayment method (one the product offers; its first if left out)"},
            {"name": "applicant", "type": "object", "required": True, "fields": APPLICANT},
            {"name": "callback_url", "type": "url", "required": False, "max_length": 500,
             "label": "Webhook for status changes (http or https)"},
            {"name": "consent", "type": "object", "required": False, "fields": CONSENT,
             "label": "The applicant's authorisation for the credit bureau query"},
            # Where it came in: staff default to counter, an integrator client to its one channel.
            {"name": "channel", "type": "choice", "choices": "channel", "required": False,
             "label": "Channel (mobile, counter or partner)"},
            {"name": "partner_id", "type": "string", "required": False, "max_length": 64,
             "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
             "pattern_message": "the partner's id: letters, digits, '.', '_' or '-'",
             "label": "Partner id (the partner channel)"},
        ],
    },
    "credit_line_application": {
        "title": "Credit line application (授信申请)",
        # The loan application's fields (the line goes through the same stages), with the amount as
        # the line asked for and the term as how long the line may be drawn on.
        "fields": [
            {"name": "branch", "type": "string", "required": True, "max_length": 16, "label": "Branch code"},
            {"name": "product", "type": "string", "required": True, "max_length": 32,
             "label": "Product code of the line's drawdowns"},
            {"name": "amount", "type": "money", "required": True, "min": "0.01", "max": MAX_AMOUNT,
             "label": "Line limit asked for (yuan)"},
            {"name": "term_months", "type": "integer", "required": True, "min": 1, "max": 360,
             "label": "Months the line may be drawn on"},
            {"name": "purpose", "type": "choice", "choices": "purpose", "required": True},
            {"name": "guarantee_method", "type": "choice", "choices": "guarantee_method", "required": True},
            {"name": "applicant", "type": "object", "required": True, "fields": APPLICANT},
            {"name": "revolving", "type": "boolean", "required": False,
             "label": "Revolving (随借随还): repaid principal may be drawn again on one loan"},
            {"name": "renews_line_id", "type": "string", "required": False, "max_length": 36,
             "label": "The line this application renews (续贷)"},
            {"name": "callback_url", "type": "url", "required": False, "max_length": 500,
             "label": "Webhook for status changes (http or https)"},
            {"name": "consent", "type": "object", "required": False, "fields": CONSENT,
             "label": "The applicant's authorisation for the credit bureau query"},
        ],
    },
    "drawdown": {
        "title": "Drawdown on a credit line (用信)",
        "fields": [
            {"name": "amount", "type": "money", "required": True, "min": "0.01", "max": MAX_AMOUNT,
             "label": "Amount (yuan)"},
            {"name": "term_months", "type": "integer", "required": False, "min": 1, "max": 360,
             "label": "Months (a non-revolving line; default the product's shortest term)"},
        ],
    },
    "credit_line_action": {
        "title": "Freeze or unfreeze a credit line",
        "fields": [{"name": "reason", "type": "string", "required": True, "max_length": 500,
                    "pattern": r"\S", "pattern_message": "must say why"}],
    },
    "credit_line_reduction": {
        "title": "Reduce a credit line",
        "fields": [
            {"name": "new_limit", "type": "money", "required": True, "min": "0", "max": MAX_AMOUNT,
             "label": "New limit (yuan)"},
            {"name": "reason", "type": "string", "required": True, "max_length": 500,
             "pattern": r"\S", "pattern_message": "must say why"},
        ],
    },
    "investigation": {
        "title": "Customer manager's investigation",
        "fields": [
            {"name": "decision", "type": "choice", "choices": "investigation_decision", "required": True},
            {"name": "comment", "type": "string", "required": True, "max_length": 2000,
             "label": "Findings of the on-site investigation"},
            {"name": "verified_income", "type": "money", "required": False, "min": "0", "max": "10000000"},
        ],
    },
    "review": {
        "title": "Review decision",
        "fields": [
            {"name": "decision", "type": "choice", "choices": "review_decision", "required": True},
            {"name": "comment", "type": "string", "required": True, "max_length": 2000},
        ],
    },
    "risk_list_entry": {
        "title": "Risk list entry",
        "fields": [
            {"name": "id_number", "type": "string", "required": True, "pattern": r"^[0-9]{17}[0-9Xx]$",
             "pattern_message": "must be a resident ID number: 17 digits followed by a digit or X"},
            {"name": "reason", "type": "string", "required": True, "max_length": 500,
             "pattern": r"\S", "pattern_message": "must say why"},
        ],
    },
    "credentials": {
        "title": "Sign-in",
        "fields": [
            {"name": "username", "type": "string", "required": True, "max_length": 64},
            {"name": "password", "type": "string", "required": True, "max_length": 200},
        ],
    },
    "signature": {
        "title": "Customer's signature from the channel",
        "fields": [
            {"name": "contract_number", "type": "string", "required": True, "max_length": 64},
            {"name": "content_hash", "type": "string", "required": True, "pattern": r"^[0-9a-f]{64}$",
             "pattern_message": "must be the contract's SHA-256 content hash (64 hex digits)"},
            {"name": "signed_at", "type": "datetime", "required": True},
            {"name": "channel", "type": "string", "required": True, "max_length": 32},
            {"name": "signature_reference", "type": "string", "required": True, "max_length": 128},
        ],
    },
    "process_start": {
        "title": "Start a process",
        "fields": [
            {"name": "branch", "type": "string", "required": True, "max_length": 16, "label": "Branch code"},
            {"name": "data", "type": "json_object", "required": False,
             "label": "The process's start form (GET /processes shows its schema)"},
        ],
    },
    "message": {
        "title": "A message for a waiting process instance",
        "fields": [
            {"name": "name", "type": "string", "required": True, "max_length": 200,
             "pattern": r"^[A-Za-z][A-Za-z0-9_.-]*$", "pattern_message": "must be a message name from a diagram"},
            {"name": "message_id", "type": "string", "required": True, "max_length": 200,
             "label": "The sender's unique id: the same id again is a replay"},
            {"name": "correlation", "type": "key_values", "required": True,
             "label": "Keys that find the waiting instance, e.g. {\"loan_id\": \"LN-1\"}"},
            {"name": "payload", "type": "json_object", "required": False},
        ],
    },
    "collection_contact": {
        "title": "Collection contact (phone call or visit)",
        "fields": [
            {"name": "contact_outcome", "type": "choice", "choices": "contact_outcome", "required": True,
             "label": "Outcome"},
            {"name": "promise_date", "type": "date", "required": False, "required_when": ["contact_outcome", "promise_to_pay"],
             "label": "Date the borrower promised to pay by"},
            {"name": "comment", "type": "string", "required": True, "max_length": 2000, "label": "What was said"},
        ],
    },
    "legal_action": {
        "title": "Legal action",
        "fields": [
            {"name": "legal_measure", "type": "choice", "choices": "legal_measure", "required": True, "label": "Measure"},
            {"name": "comment", "type": "string", "required": True, "max_length": 2000},
        ],
    },
    "write_off_approval": {
        "title": "Write-off approval (核销审批)",
        "fields": [
            {"name": "decision", "type": "choice", "choices": "approval_decision", "required": True},
            {"name": "comment", "type": "string", "required": True, "max_length": 2000},
        ],
    },
    "classification_reason": {
        "title": "Reason for the five-level class (五级分类认定)",
        "fields": [
            # One choice on purpose: the customer manager's part is the reason; recording it as a
            # "propose" decision is what keeps them from also approving the class (four eyes).
            {"name": "decision", "type": "choice", "choices": "classification_proposal", "required": True,
             "label": "Propose the class to the risk officer"},
            {"name": "reason", "type": "string", "required": True, "max_length": 400, "pattern": r"\S",
             "pattern_message": "must say why the class fits", "label": "Why the loan belongs in this class"},
        ],
    },
    "classification_decision": {
        "title": "Approve the five-level class (五级分类审批)",
        "fields": [
            {"name": "decision", "type": "choice", "choices": "approval_decision", "required": True},
            {"name": "comment", "type": "string", "required": False, "required_when": ["decision", "reject"],
             "max_length": 400, "label": "Comment (required to reject)"},
        ],
    },
    "post_loan_check_request": {
        "title": "Ad-hoc post-loan check (贷后检查)",
        "fields": [
            {"name": "loan_id", "type": "string", "required": True, "max_length": 64, "label": "Loan number"},
            {"name": "check_reason", "type": "string", "required": True, "max_length": 500,
             "pattern": r"\S", "pattern_message": "must say why", "label": "Why the check is needed"},
        ],
    },
    "post_loan_check": {
        "title": "Post-loan check visit",
        "fields": [
            {"name": "visited_on", "type": "date", "required": True, "label": "Date of the visit"},
            {"name": "findings", "type": "string", "required": True, "max_length": 2000,
             "label": "What was found (business, crops, livestock, household)"},
            {"name": "fund_use", "type": "choice", "choices": "fund_use", "required": True,
             "label": "Use of the loan funds"},
            {"name": "risk_opinion", "type": "choice", "choices": "risk_opinion", "required": True,
             "label": "Risk opinion"},
            {"name": "comment", "type": "string", "required": False, "max_length": 2000},
        ],
    },
    "risk_measures": {
        "title": "Risk officer's measures",
        "fields": [
            {"name": "risk_measure", "type": "choice", "choices": "risk_measure", "required": True, "label": "Measure"},
            {"name": "comment", "type": "string", "required": True, "max_length": 2000},
        ],
    },
    "change_request": {
        "title": "Change request for a loan (合同变更)",
        "fields": [
            {"name": "type", "type": "choice", "choices": "change_type", "required": True,
             "label": "rate_change: new_rate; repayment_account: deposit_account; repayment_method: new_method; "
                      "guarantee: guarantee_method and guarantee_details; customer_data: phone and/or region; "
                      "extension (展期): extra_months"},
            {"name": "new_rate", "type": "decimal", "required": False, "min": "0", "max": "0.36",
             "required_when": ["type", "rate_change"], "label": "New annual rate (rate_change), e.g. 0.0395"},
            {"name": "deposit_account", "type": "string", "required": False, "max_length": 32,
             "pattern": r"^[0-9]{10,32}$", "pattern_message": "must be the account number (10 to 32 digits)",
             "required_when": ["type", "repayment_account"], "label": "New repayment account (repayment_account)"},
            {"name": "new_method", "type": "choice", "choices": "repayment_method", "required": False,
             "required_when": ["type", "repayment_method"], "label": "New repayment method (repayment_method)"},
            {"name": "guarantee_method", "type": "choice", "choices": "guarantee_method", "required": False,
             "required_when": ["type", "guarantee"], "label": "New guarantee method (guarantee)"},
            {"name": "guarantee_details", "type": "string", "required": False, "max_length": 400,
             "pattern": r"\S", "pattern_message": "must say who guarantees or what is pledged",
             "required_when": ["type", "guarantee"],
             "label": "The new guarantor, collateral or pledge and its contract (guarantee)"},
            {"name": "phone", "type": "string", "required": False, "pattern": r"^1[0-9]{10}$",
             "pattern_message": "must be an 11-digit mobile number",
             "label": "The borrower's new mobile phone (customer_data; reminders and collections text it)"},
            {"name": "region", "type": "string", "required": False, "max_length": 60,
             "pattern": r"\S", "pattern_message": "must name the place",
             "label": "The borrower's new region or address (customer_data)"},
            {"name": "extra_months", "type": "integer", "required": False, "min": 1, "max": 36,
             "required_when": ["type", "extension"],
             "label": "Months the loan runs longer (extension; at most its term, half of it above a year, 36 above five)"},
            {"name": "effective_date", "type": "date", "required": True,
             "label": "From when the change applies (YYYY-MM-DD)"},
            {"name": "reason", "type": "string", "required": True, "max_length": 400,
             "pattern": r"\S", "pattern_message": "must say why"},
        ],
    },
    "change_approval": {
        "title": "Change request decision",
        "fields": [
            {"name": "decision", "type": "choice", "choices": "approval_decision", "required": True},
            {"name": "comment", "type": "string", "required": True, "max_length": 2000},
        ],
    },
    # -- administration (workflows/administration.py) and delegation (workflows/delegation.py) ----
    "admin_user": {
        "title": "New user",
        "fields": [
            {"name": "username", "type": "string", "required": True, "max_length": 64, "label": "Username",
             "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$",
             "pattern_message": "2 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"},
            {"name": "full_name", "type": "string", "required": True, "max_length": 120, "label": "Full name"},
            {"name": "branch", "type": "string", "required": True, "max_length": 16, "label": "Branch"},
            {"name": "outlet", "type": "string", "required": False, "max_length": 16, "label": "Outlet"},
            {"name": "roles", "type": "choice_list", "choices": "role", "required": True, "label": "Roles"},
            {"name": "password", "type": "string", "required": True, "max_length": 200, "label": "First password"},
            {"name": "enabled", "type": "boolean", "required": False, "label": "Enabled"},
        ],
    },
    "admin_user_change": {
        "title": "Change a user",
        "fields": [
            {"name": "full_name", "type": "string", "required": False, "max_length": 120, "label": "Full name"},
            {"name": "branch", "type": "string", "required": False, "max_length": 16, "label": "Branch"},
            {"name": "outlet", "type": "string", "required": False, "max_length": 16, "label": "Outlet"},
            {"name": "roles", "type": "choice_list", "choices": "role", "required": False, "label": "Roles"},
            {"name": "enabled", "type": "boolean", "required": False, "label": "Enabled"},
            {"name": "password", "type": "string", "required": False, "max_length": 200, "label": "New password"},
            {"name": "unlock", "type": "boolean", "required": False, "label": "Unlock"},
        ],
    },
    "admin_integrator": {
        "title": "New integrator client",
        "fields": [
            {"name": "client_id", "type": "string", "required": False, "max_length": 64, "label": "Client id",
             "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$",
             "pattern_message": "2 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"},
            {"name": "name", "type": "string", "required": True, "max_length": 120, "label": "Integrator"},
            {"name": "branches", "type": "code_list", "required": True,
             "label": "Branches (HQ: every branch)"},
            {"name": "channels", "type": "choice_list", "choices": "channel", "required": True, "label": "Channels"},
            {"name": "partner_id", "type": "string", "required": False, "max_length": 64, "label": "Partner id"},
            {"name": "enabled", "type": "boolean", "required": False, "label": "Enabled"},
        ],
    },
    "admin_integrator_change": {
        "title": "Change an integrator client",
        "fields": [
            {"name": "name", "type": "string", "required": False, "max_length": 120, "label": "Integrator"},
            {"name": "branches", "type": "code_list", "required": False,
             "label": "Branches (HQ: every branch)"},
            {"name": "channels", "type": "choice_list", "choices": "channel", "required": False, "label": "Channels"},
            {"name": "partner_id", "type": "string", "required": False, "max_length": 64, "label": "Partner id"},
            {"name": "enabled", "type": "boolean", "required": False, "label": "Enabled"},
        ],
    },
    "client_credentials": {
        "title": "An integrator client's sign-in",
        "fields": [
            {"name": "grant_type", "type": "choice", "choices": "grant_type", "required": True},
            {"name": "client_id", "type": "string", "required": True, "max_length": 64},
            {"name": "client_secret", "type": "string", "required": True, "max_length": 200},
        ],
    },
    "org_unit": {
        "title": "New branch or outlet",
        "fields": [
            {"name": "kind", "type": "choice", "choices": "org_unit_kind", "required": True, "label": "Kind"},
            {"name": "code", "type": "string", "required": True, "max_length": 16, "label": "Code"},
            {"name": "name", "type": "string", "required": True, "max_length": 120, "label": "Name"},
            {"name": "parent", "type": "string", "required": False, "max_length": 16, "label": "Branch"},
            {"name": "region", "type": "string", "required": False, "max_length": 60, "label": "Region"},
            {"name": "tier1_capital_net", "type": "money", "required": False, "min": "0",
             "max": "10000000000000", "label": "Net tier-1 capital (yuan)"},
        ],
    },
    "org_unit_change": {
        "title": "Change a branch or outlet",
        "fields": [
            {"name": "name", "type": "string", "required": False, "max_length": 120, "label": "Name"},
            {"name": "region", "type": "string", "required": False, "max_length": 60, "label": "Region"},
            {"name": "tier1_capital_net", "type": "money", "required": False, "min": "0",
             "max": "10000000000000", "label": "Net tier-1 capital (yuan)"},
            {"name": "enabled", "type": "boolean", "required": False, "label": "Enabled"},
        ],
    },
    "reconciliation_run": {
        "title": "Reconcile a business date",
        "fields": [{"name": "business_date", "type": "date", "required": True, "label": "Business date"}],
    },
    "work_order_resolution": {
        "title": "Resolve a reconciliation work order",
        "fields": [{"name": "note", "type": "string", "required": True, "max_length": 500,
                    "label": "How it was settled", "pattern": r"\S",
                    "pattern_message": "must say how the difference was settled"}],
    },
    "password_change": {
        "title": "Change my password",
        "fields": [
            {"name": "current_password", "type": "string", "required": True, "max_length": 200,
             "label": "Current password"},
            {"name": "new_password", "type": "string", "required": True, "max_length": 200, "label": "New password"},
        ],
    },
    "delegation": {
        "title": "Delegation",
        "fields": [
            {"name": "delegate", "type": "string", "required": True, "max_length": 64, "label": "Delegate"},
            {"name": "starts_at", "type": "datetime", "required": True, "label": "From (China time)"},
            {"name": "ends_at", "type": "datetime", "required": True, "label": "To (China time)"},
            {"name": "roles", "type": "choice_list", "choices": "role", "required": False, "label": "Roles"},
            {"name": "reason", "type": "string", "required": False, "max_length": 200, "label": "Reason"},
            {"name": "delegator", "type": "string", "required": False, "max_length": 64, "label": "Delegator"},
        ],
    },
    "reassignment": {
        "title": "Reassign a task",
        "fields": [
            {"name": "assignee", "type": "string", "required": True, "max_length": 64, "label": "Reassign to"},
        ],
    },
    "warning_handling": {
        "title": "Early-warning work order (预警处置)",
        "fields": [
            {"name": "measures", "type": "choice_list", "choices": "warning_measure", "required": True,
             "label": "Measures taken"},
            {"name": "comment", "type": "string", "required": True, "max_length": 2000, "label": "What was found and done"},
        ],
    },
}
