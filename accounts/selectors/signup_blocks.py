"""Reads for sign-up blocks: is this e-mail domain or client address refused at sign-up?"""

from __future__ import annotations

import ipaddress

from accounts.models import SignupBlock


def signup_block_for_email(*, email: str) -> SignupBlock | None:
    """The block on the address's domain or one of its parent domains (``spam.example`` also
    blocks ``mx.spam.example``), if any."""
    domain = email.rpartition("@")[2].strip().lower().rstrip(".")
    if not domain:
        return None
    labels = domain.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    return SignupBlock.objects.filter(kind=SignupBlock.Kind.EMAIL_DOMAIN, value__in=candidates).first()


def signup_block_for_ip(*, ip: str | None) -> SignupBlock | None:
    """The block whose network holds ``ip``, if any. The list is short (staff type each one),
    so it is matched here rather than with database-specific network operators."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    for block in SignupBlock.objects.filter(kind=SignupBlock.Kind.IP_NETWORK):
        network = ipaddress.ip_network(block.value, strict=False)
        if address.version == network.version and address in network:
            return block
    return None
