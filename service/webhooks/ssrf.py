"""Webhooks must never be a way into the merchant's own network (OWASP API7, SSRF).

A merchant client names a URL and Minifin posts to it from inside the deployment, so the URL is
checked twice: its form when it is registered (`check_url`: http or https, https in production,
no credentials, no literal address that is refused below), and its address when a delivery is
made. The name is resolved once, at delivery time, every address it resolves to is checked
(`refusal`), and the connection goes to the checked address itself (`PinnedTransport`), with
the name kept for the `Host` header and for TLS (SNI and the certificate's name): a DNS answer
that changes between the check and the connection (rebinding) cannot move the request.

Always refused: multicast, unspecified, reserved and the cloud metadata addresses
(169.254.169.254, fd00:ec2::254). Refused unless `MINIFIN_WEBHOOK_ALLOW_PRIVATE_NETWORKS` (on in
dev and test, refused in production): loopback, private, link-local and shared (CGNAT) ranges.
Redirects are never followed (the client is built so) and answers are read up to a limit.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

# (host, port) -> the addresses to try; tests pass one that answers any address they like.
Resolver = Callable[[str, int], list[str]]

METADATA_ADDRESSES = frozenset({
    ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
})  # fmt: skip
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")


class RefusedAddress(httpx.TransportError):
    """The URL's host resolved to an address webhooks may not reach; nothing was sent."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for `host`, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(address: str, *, allow_private: bool) -> str | None:
    """Why webhooks may not reach `address`, or None when they may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return "the cloud metadata address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_loopback:
        return None if allow_private else "a loopback address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_link_local:
        return None if allow_private else "a link-local address"
    if ip.is_private or ip in SHARED_ADDRESS_SPACE:
        return None if allow_private else "a private address"
    if not ip.is_global:
        return "a reserved address"
    return None


def check_url(url: str, *, require_https: bool, allow_private: bool) -> str | None:
    """Why an endpoint URL is refused at registration, or None. Its name is checked again,
    resolved, at every delivery."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http or https URL with a host"
    if require_https and parts.scheme != "https":
        return "must be https"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials"
    if parts.fragment:
        return "must not have a fragment"
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return None
    why = refusal(str(literal), allow_private=allow_private)
    return f"names {why}" if why else None


class PinnedTransport(httpx.BaseTransport):
    """Resolve once, check every address, connect to the first: the name only names.

    `request.url`'s host is replaced by the checked address; httpx already set the `Host`
    header from the name, and the `sni_hostname` extension makes TLS use the name for SNI and
    for checking the certificate.
    """

    def __init__(self, *, allow_private: bool, resolver: Resolver | None = None,
                 verify: bool = True):  # fmt: skip
        self.allow_private = allow_private
        self.resolver = resolver or system_resolver
        self._inner = httpx.HTTPTransport(verify=verify, retries=0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        try:
            addresses = self.resolver(host, port)
        except OSError as error:
            raise httpx.ConnectError(f"cannot resolve {host}: {error}", request=request) from error
        if not addresses:
            raise httpx.ConnectError(f"{host} resolves to no address", request=request)
        for address in addresses:
            why = refusal(address, allow_private=self.allow_private)
            if why:
                raise RefusedAddress(f"refused: {host} resolves to {why}", request=request)
        request.url = request.url.copy_with(host=addresses[0].split("%", 1)[0])
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()
