"""Browser tests: headless Debian Chromium driven by Playwright's sync API against ONE live
server per session (werkzeug on 127.0.0.1, a SQLite copy of the migrated template, demo data,
the simulated credit bureau). `make test` installs Chromium (`make chromium-browser`)."""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from tests.conftest import TEST_DATA_KEY
from tests.support.web_app import TEST_SECRET_KEY
from tests.web import journeys

CHROMIUM = Path("/usr/bin/chromium")
VENDOR = Path(__file__).resolve().parents[2] / "web" / "static" / "vendor"
SECOND_REVIEWER = "rev2-BR001"  # a second credit reviewer in BR001, for the race
SECOND_MANAGER = "cm2-BR001"  # a second customer manager in BR001, who claims under the first one's eyes


@pytest.fixture(scope="session")
def live(tmp_path_factory, sqlite_template, bureau):
    """The live server: (base URL, Flask app, services)."""
    if not (VENDOR / "bpmn-js").exists():
        pytest.fail("web/static/vendor is missing: run `make assets` (make test does)")
    from web.app import create_app
    from web.config import PROJECT_ROOT, Settings
    from web.services import build_services
    from web.simulators import start_in_thread
    from workflows.directory import hash_password
    from workflows.models import User

    path = tmp_path_factory.mktemp("e2e-db") / "loanflow.sqlite3"
    shutil.copyfile(sqlite_template, path)
    # Plain http on 127.0.0.1, as the demo: the session cookie cannot be Secure here.
    settings = Settings(database_url=f"sqlite:///{path}", secret_key=TEST_SECRET_KEY, bpmn_dir=PROJECT_ROOT / "bpmn",
                        bureau_url=bureau.url, data_key=TEST_DATA_KEY, secure_cookies=False)
    services = build_services(settings)
    services.seed_demo()
    with services.db.unit_of_work() as session:
        session.add(User(username=SECOND_REVIEWER, full_name="信贷审查员（二）", branch_code="BR001",
                         roles="reviewer", password_hash=hash_password("demo")))
        session.add(User(username=SECOND_MANAGER, full_name="客户经理（二）", branch_code="BR001",
                         roles="customer_manager", password_hash=hash_password("demo")))
    app = create_app(settings, services=services)
    server = start_in_thread(app)
    yield server.url, app, services
    server.stop()
    services.db.dispose()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (`make chromium-browser` installs it)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def new_context(browser, live):
    contexts = []

    def make(**options):
        options.setdefault("locale", "zh-CN")  # the bank's staff browsers: Chinese dates in date inputs
        context = browser.new_context(base_url=live[0], viewport={"width": 1360, "height": 900}, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def sign_in(new_context):
    """A page signed in as `username` (password demo)."""
    def open_as(username: str, lands: str = "**/inbox**"):
        page = new_context().new_page()
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "demo")
        page.click("button[type=submit]")
        page.wait_for_url(lands)  # each person's start page: the inbox, or the studio for analysts
        return page

    return open_as


@pytest.fixture
def api(live):
    """The integrator's and reviewers' API on the same server (Flask test client)."""
    client = live[1].test_client()

    def token(username):
        response = client.post("/api/v1/auth/token", json={"username": username, "password": "demo"})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return client, token


def valid_id_number(prefix17: str) -> str:
    """A resident ID number with its ISO 7064 MOD 11-2 check digit."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return prefix17 + "10X98765432"[sum(int(d) * w for d, w in zip(prefix17, weights)) % 11]


@pytest.fixture
def application_in_review(api):
    """A 300,000 yuan application in BR001 (or another branch) waiting for the customer manager;
    the applicant's name is unique, so a filter finds exactly it."""
    client, token = api

    def submit(branch="BR001"):
        name = f"王秀英{uuid.uuid4().hex[:4]}"
        body = journeys.example("application-review.json", branch=branch)
        body["applicant"] = dict(body["applicant"], name=name,
                                 id_number=valid_id_number("37072419780615" + f"{uuid.uuid4().int % 1000:03d}"))
        response = journeys.submit(client, token("api-demo"), body)
        assert response.status_code == 201, response.get_json()
        application = response.get_json()
        assert application["status"] == "in_review", application
        return application["id"], name

    return submit
