"""An integrator's callback_url may only point at the hosts the settings allow it, and never at
this machine or its link (loopback, link-local) unless that very host is listed."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.web.journeys import example, submit
from web.cli import main
from web.config import Settings
from workflows.callbacks import CallbackHosts, CallbackHostsInvalid
from workflows.models import Application

ANY_PUBLIC = CallbackHosts.parse("api-demo=*")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hooks", "http://127.1/", "http://2130706433/", "http://0x7f.0.0.1/",
    "http://017700000001/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://localhost/",
    "http://LOCALHOST./", "http://api.localhost/", "http://127.8.9.10/",
])
def test_loopback_hosts_are_refused_even_when_any_host_is_allowed(url):
    assert "loopback address" in ANY_PUBLIC.refusal("api-demo", url)


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/",
                                 "http://0251.0376.0251.0376/"])
def test_link_local_hosts_such_as_the_metadata_service_are_refused(url):
    assert "link-local address" in ANY_PUBLIC.refusal("api-demo", url)


@pytest.mark.parametrize("url", ["http://0.0.0.0:8000/", "http://0/", "http://[::]/"])
def test_the_unspecified_address_which_reaches_this_machine_is_refused(url):
    assert "unspecified address" in ANY_PUBLIC.refusal("api-demo", url)


def test_a_loopback_host_listed_exactly_for_the_integrator_is_allowed_on_any_port():
    hosts = CallbackHosts.parse("api-demo=127.0.0.1;other=hooks.example.com")
    assert hosts.refusal("api-demo", "http://127.0.0.1:5001/hooks") is None
    assert hosts.refusal("api-demo", "http://127.1:80/hooks") is None  # the same address, spelt short
    assert "loopback" in hosts.refusal("other", "http://127.0.0.1:5001/hooks")
    assert "loopback" in hosts.refusal("api-demo", "http://[::1]/hooks")  # another host than the listed one


def test_wildcards_allow_a_domains_hosts_and_nothing_else():
    hosts = CallbackHosts.parse("partner=*.partner.example, hooks.example.com")
    assert hosts.refusal("partner", "https://a.partner.example/x") is None
    assert hosts.refusal("partner", "https://b.a.partner.example/x") is None
    assert hosts.refusal("partner", "https://HOOKS.example.com./x") is None
    assert "not on the callback allow-list of partner" in hosts.refusal("partner", "https://evilpartner.example/")
    assert "not on the callback allow-list of partner" in hosts.refusal("partner", "https://partner.example.evil/")


@pytest.mark.parametrize("url, reason", [
    ("ftp://hooks.example.com/x", "must use http or https"),
    ("file:///etc/passwd", "must use http or https"),
    ("http://hooks.example.com@127.0.0.1/", "must not carry a user name or password"),
    ("http://user:pw@hooks.example.com/", "must not carry a user name or password"),
    ("http://hooks.example.com:99999/", "is not a valid URL"),
    ("http:///nohost", "has no host"),
])
def test_other_schemes_credentials_and_broken_urls_are_refused(url, reason):
    assert CallbackHosts.parse("api-demo=hooks.example.com").refusal("api-demo", url) == reason


def test_an_integrator_who_is_not_listed_may_set_no_callback_at_all():
    assert "allow-list of cm-BR001" in ANY_PUBLIC.refusal("cm-BR001", "https://hooks.example.com/")
    assert "allow-list of api-demo" in CallbackHosts().refusal("api-demo", "https://hooks.example.com/")


@pytest.mark.parametrize("raw", ["api-demo", "=hooks.example.com", "api-demo=", "api-demo=not a host",
                                 "api-demo=hooks.example.com/path"])
def test_a_malformed_setting_is_refused(raw):
    with pytest.raises(CallbackHostsInvalid):
        CallbackHosts.parse(raw)


def test_the_demo_allows_this_machine_for_api_demo_on_top_of_the_setting(monkeypatch):
    monkeypatch.setenv("LOANFLOW_CALLBACK_HOSTS", "api-demo=hooks.example.com")
    demo = Settings.from_env().for_demo().callback_hosts
    assert demo.refusal("api-demo", "http://127.0.0.1:5005/hooks") is None
    assert demo.refusal("api-demo", "https://hooks.example.com/") is None
    assert Settings.from_env().callback_hosts.refusal("api-demo", "http://127.0.0.1:5005/hooks") is not None


def test_serve_with_a_malformed_setting_exits_2_with_one_line(monkeypatch, capsys):
    monkeypatch.setenv("LOANFLOW_CALLBACK_HOSTS", "api-demo")
    assert main(["serve", "--demo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("loanflow serve: LOANFLOW_CALLBACK_HOSTS: ") and err.count("\n") == 1


def count_applications(services) -> int:
    with services.db.sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Application))


def test_without_the_setting_a_callback_url_is_422_naming_it_and_nothing_is_written(client, token_for, services):
    response = submit(client, token_for("api-demo"),
                      example("application-auto.json", callback_url="http://127.0.0.1:8000/hooks"))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "callback_url_refused"
    assert body["fields"] == {"callback_url": ["127.0.0.1 is a loopback address, which is not allowed for "
                                               "api-demo's callbacks"]}
    assert count_applications(services) == 0


class TestWithAnAllowList:
    @pytest.fixture
    def settings_overrides(self):
        return {"callback_hosts": CallbackHosts.parse("api-demo=hooks.example.com,*")}

    def test_an_allowed_host_is_accepted(self, client, token_for):
        response = submit(client, token_for("api-demo"),
                          example("application-auto.json", callback_url="https://hooks.example.com/loanflow"))
        assert response.status_code == 201, response.get_json()

    def test_the_metadata_service_is_refused_naming_the_reason(self, client, token_for):
        response = submit(client, token_for("api-demo"),
                          example("application-auto.json", callback_url="http://169.254.169.254/latest/meta-data/"))
        assert response.status_code == 422
        assert response.get_json()["fields"]["callback_url"] == [
            "169.254.169.254 is a link-local address, which is not allowed for api-demo's callbacks"]

    def test_another_submitter_without_an_allow_list_is_refused(self, client, token_for):
        response = submit(client, token_for("cm-BR001"),
                          example("application-auto.json", callback_url="https://hooks.example.com/loanflow"))
        assert response.status_code == 422
        assert "not on the callback allow-list of cm-BR001" in response.get_json()["fields"]["callback_url"][0]
