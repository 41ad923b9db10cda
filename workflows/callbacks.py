"""Which hosts an integrator's `callback_url` may point at.

The worker POSTs every status change to the application's callback URL from inside the bank's
network, so a callback URL is a request the integrator makes the server send. Without a check an
integrator could aim it at the server itself (127.0.0.1, an admin port) or at the cloud metadata
service (169.254.169.254). Hence an allow-list per integrator (user name), from the setting
LOANFLOW_CALLBACK_HOSTS:

    api-demo=127.0.0.1,hooks.example.com;partner=*.partner.example;mobile=*

Each entry is a host name or IP address (matched exactly, any port), `*.domain` (any host under
domain) or `*` (any host). Loopback (127.0.0.0/8, ::1, localhost), link-local (169.254.0.0/16,
fe80::/10) and unspecified (0.0.0.0, ::) hosts match only an exact entry: a wildcard never lets
them through. An integrator who is not listed may not set a callback URL at all.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping
from urllib.parse import urlsplit

from workflows.errors import InvalidInput

SCHEMES = frozenset({"http", "https"})
LOCAL_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})
# Letters that can appear in the legacy IPv4 forms inet_aton accepts: 0x7f.1, 2130706433, 017700000001.
_NUMERIC_HOST = re.compile(r"^[0-9a-fx.]+$")
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$")


class CallbackHostsInvalid(ValueError):
    """LOANFLOW_CALLBACK_HOSTS cannot be read; the message says which part."""


class CallbackRefused(InvalidInput):
    code = "callback_url_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(f"callback_url refused: {reason}", field="callback_url")
        self.fields = {"callback_url": [reason]}


def canonical_host(host: str) -> str:
    """Lower case, no trailing dot, no brackets, and an IP address in its one standard spelling, so
    127.1, 0x7f000001 and 127.0.0.1 are one host (the resolver treats them as one)."""
    host = host.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")
    address = _ip_address(host)
    return str(address) if address is not None else host


def _ip_address(host: str):
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not _NUMERIC_HOST.match(host):
            return None
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def local_kind(host: str) -> str | None:
    """'loopback', 'link-local' or 'unspecified' for a host that reaches this machine or its
    link, None for any other host. `host` is canonical."""
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return "loopback"
    address = _ip_address(host)
    if address is None:
        return None
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified:
        return "unspecified"
    return None


@dataclass(frozen=True)
class HostPatterns:
    exact: frozenset[str] = frozenset()
    suffixes: frozenset[str] = frozenset()  # "*.example.com" is kept as ".example.com"
    any_host: bool = False

    @classmethod
    def parse(cls, entries: list[str], integrator: str) -> "HostPatterns":
        exact, suffixes, any_host = set(), set(), False
        for entry in entries:
            if entry == "*":
                any_host = True
            elif entry.startswith("*."):
                suffixes.add("." + _checked_name(entry[2:], integrator))
            else:
                exact.add(_checked_name(entry, integrator))
        return cls(frozenset(exact), frozenset(suffixes), any_host)

    def merged(self, other: "HostPatterns") -> "HostPatterns":
        return HostPatterns(self.exact | other.exact, self.suffixes | other.suffixes, self.any_host or other.any_host)

    def matches_by_wildcard(self, host: str) -> bool:
        return self.any_host or any(host.endswith(suffix) for suffix in self.suffixes)


def _checked_name(entry: str, integrator: str) -> str:
    host = canonical_host(entry)
    if _ip_address(host) is None and not _HOST_NAME.match(host):
        raise CallbackHostsInvalid(f"{entry!r} (for {integrator}) is not a host name or IP address")
    return host


@dataclass(frozen=True)
class CallbackHosts:
    """The allow-list of every integrator, by user name."""

    by_integrator: Mapping[str, HostPatterns] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def parse(cls, raw: str) -> "CallbackHosts":
        found: dict[str, HostPatterns] = {}
        for part in raw.split(";"):
            if not part.strip():
                continue
            integrator, equals, hosts = part.partition("=")
            integrator = integrator.strip()
            entries = [h.strip() for h in hosts.split(",") if h.strip()]
            if not equals or not integrator or not entries:
                raise CallbackHostsInvalid(f"{part.strip()!r} is not 'user=host,host'")
            patterns = HostPatterns.parse(entries, integrator)
            found[integrator] = found[integrator].merged(patterns) if integrator in found else patterns
        return cls(MappingProxyType(found))

    def merged(self, other: "CallbackHosts") -> "CallbackHosts":
        found = dict(self.by_integrator)
        for integrator, patterns in other.by_integrator.items():
            found[integrator] = found[integrator].merged(patterns) if integrator in found else patterns
        return CallbackHosts(MappingProxyType(found))

    def check(self, integrator: str, url: str) -> None:
        """Raise CallbackRefused naming the reason unless `integrator` may be called back at `url`."""
        reason = self.refusal(integrator, url)
        if reason:
            raise CallbackRefused(reason)

    def refusal(self, integrator: str, url: str) -> str | None:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
        except ValueError:
            return "is not a valid URL"
        if parts.scheme.lower() not in SCHEMES:
            return "must use http or https"
        if "@" in parts.netloc:
            # user:password@host is where URL parsers disagree about which part is the host.
            return "must not carry a user name or password"
        if not parts.hostname:
            return "has no host"
        host = canonical_host(parts.hostname)
        patterns = self.by_integrator.get(integrator, HostPatterns())
        if host in patterns.exact:
            return None
        kind = local_kind(host)
        if kind:
            return f"{host} is a {kind} address, which is not allowed for {integrator}'s callbacks"
        if patterns.matches_by_wildcard(host):
            return None
        return f"host {host} is not on the callback allow-list of {integrator}"
