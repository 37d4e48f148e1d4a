"""Checks on the sockets a test's servers open."""

from __future__ import annotations


def loopback(ip: str) -> bool:
    """127.0.0.1, ::1, or IPv4's loopback written as IPv6 (::ffff:127.0.0.1).

    Example:
        >>> loopback("::ffff:127.0.0.1"), loopback("0.0.0.0")
        (True, False)
    """
    import ipaddress

    address = ipaddress.ip_address(ip)
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback
