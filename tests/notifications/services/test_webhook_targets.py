"""The SSRF guard: which addresses may receive webhooks, at creation and at each send."""

import ipaddress

import pytest

from notifications.services.webhook_targets import (
    SCHEME_REFUSED,
    TargetRefused,
    address_kind,
    webhook_target_check,
)

REFUSED = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.20": "private",
    "169.254.169.254": "cloud metadata",
    "169.254.170.2": "cloud metadata",
    "100.100.100.200": "cloud metadata",
    "169.254.1.1": "link-local",
    "0.0.0.0": "unspecified",
    "224.0.0.1": "multicast",
    "240.0.0.1": "reserved",
    "100.64.0.1": "non-public",
    "192.0.2.10": "private",
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fc00::1": "private",
    "fd00:ec2::254": "cloud metadata",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "loopback",
    "::ffff:169.254.169.254": "cloud metadata",
    "2002:7f00:1::": "loopback",  # 6to4 around 127.0.0.1
}
PUBLIC = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::200e"]


@pytest.mark.parametrize(("address", "kind"), REFUSED.items())
def test_non_public_addresses_are_refused_with_their_kind(address, kind):
    assert address_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address):
    assert address_kind(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://a/"])
def test_only_http_and_https_are_allowed(url):
    with pytest.raises(TargetRefused, match=SCHEME_REFUSED):
        webhook_target_check(url)


def test_a_host_is_checked_by_every_address_it_resolves_to(resolve):
    resolve({"shop.example.com": "93.184.215.14", "inside.example.com": "10.0.0.7"})

    target = webhook_target_check("https://shop.example.com/hooks?x=1")
    assert (target.host, target.port, str(target.address)) == (
        "shop.example.com",
        443,
        "93.184.215.14",
    )
    with pytest.raises(TargetRefused, match=r"inside.example.com resolves to 10.0.0.7, a private"):
        webhook_target_check("http://inside.example.com:8080/")


def test_an_ip_literal_is_checked_without_resolving(resolve):
    resolve({})  # nothing resolves

    with pytest.raises(TargetRefused, match="loopback"):
        webhook_target_check("http://[::1]:9000/")
    assert str(webhook_target_check("http://8.8.8.8/").address) == "8.8.8.8"


def test_a_host_that_does_not_resolve_is_refused(resolve):
    resolve({})

    with pytest.raises(TargetRefused, match="could not be resolved"):
        webhook_target_check("https://nowhere.example.com/")


def test_the_setting_lets_private_targets_through_for_local_trials(resolve, private_targets):
    resolve({"receiver.local": "127.0.0.1"})

    assert str(webhook_target_check("http://receiver.local:9000/").address) == "127.0.0.1"
    with pytest.raises(TargetRefused, match=SCHEME_REFUSED):
        webhook_target_check("ftp://receiver.local/")
