"""Where a webhook may go: public addresses only, unless an allowlist says otherwise (SSRF).

A URL is checked when an admin saves it and again at every send, on the addresses the
name resolves to *then*: the request goes to the address that was checked (no second
lookup that DNS rebinding could answer differently). Private, loopback, link-local,
shared, multicast and reserved addresses are refused unless they fall in
``WEBHOOK_ALLOWED_NETWORKS``; plain ``http`` is accepted only for such allowed addresses
(a loopback receiver in development and tests), everything on the internet needs https.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddressError(Exception):
    """The URL may not be called (scheme, credentials, or an address we do not call)."""


def allowed_networks() -> list:
    return [ipaddress.ip_network(net, strict=False) for net in settings.WEBHOOK_ALLOWED_NETWORKS]


def _plain(address: IPAddress) -> IPAddress:
    # ::ffff:127.0.0.1 is 127.0.0.1: judged as the IPv4 address it reaches.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_allowlisted(address: IPAddress) -> bool:
    address = _plain(address)
    return any(address in network for network in allowed_networks())


def is_callable(address: IPAddress) -> bool:
    """A global unicast address, or one an admin allowed in settings."""
    address = _plain(address)
    public = address.is_global and not address.is_multicast
    return public or is_allowlisted(address)


def split_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL we would call; RefusedAddressError for any other URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise RefusedAddressError(_("Only https URLs can be called."))
    if parts.username or parts.password:
        raise RefusedAddressError(_("A URL with a user name or password in it is refused."))
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as error:
        raise RefusedAddressError(_("The port of the URL is not valid.")) from error
    if not parts.hostname:
        raise RefusedAddressError(_("The URL has no host."))
    return scheme, parts.hostname, port


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to now; RefusedAddressError when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        message = _("The host name %(host)s does not resolve.") % {"host": host}
        raise RefusedAddressError(message) from error
    found = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    return list(dict.fromkeys(found))


def checked_addresses(url: str) -> tuple[str, str, int, list[IPAddress]]:
    """(scheme, host, port, addresses) for a URL we may call now; RefusedAddressError otherwise.

    Every address the name resolves to must be callable: one private answer among public
    ones refuses the URL (a name pointing inside is not called through a lucky lookup).
    """
    scheme, host, port = split_url(url)
    addresses = resolve(host, port)
    refused = [str(address) for address in addresses if not is_callable(address)]
    if refused:
        raise RefusedAddressError(
            _("%(host)s resolves to an address that is not called: %(addresses)s")
            % {"host": host, "addresses": ", ".join(refused)}
        )
    if scheme == "http" and not all(is_allowlisted(address) for address in addresses):
        raise RefusedAddressError(_("Only https URLs can be called."))
    return scheme, host, port, addresses
