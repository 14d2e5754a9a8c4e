"""Shards from API keys, and the API and web-app URLs built from them."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncord.cliniko.shards import (
    api_base_url,
    patient_web_url,
    shard_from_api_key,
    web_base_url,
)

DOC_KEY = "MxJrZXkiOiI1Njd1amJmZTQ1NyJ9-au2"
DOC_HEADER = "Basic TXhKclpYa2lPaUkxTmpkMWFtSm1aVFExTnlKOS1hdTI6"


def test_documented_key_gives_shard_and_basic_header():
    """The key from cliniko-api.md §1 is on au2 and encodes to the documented header."""
    assert shard_from_api_key(DOC_KEY) == "au2"
    assert "Basic " + base64.b64encode(f"{DOC_KEY}:".encode()).decode() == DOC_HEADER


@pytest.mark.parametrize(
    ("key", "shard"),
    [
        ("MS0xLTEyMzQ1Njc4OTA", "au1"),  # old key without a suffix
        ("abc-def-uk2", "uk2"),  # the LAST hyphen counts
        ("abc-CA1", "ca1"),  # case-insensitive, normalised
        ("abc-au5", "au5"),  # not in the docs' list, seen in the wild
        ("abc-us1", "us1"),
        ("abc-eu12", "eu12"),
        ("  abc-au3\n", "au3"),  # pasted with whitespace
        ("abc-notashard", "au1"),
        ("abc-au123", "au1"),  # at most two digits
        ("abc-", "au1"),
        ("abc-au2x", "au1"),
    ],
)
def test_shard_from_key(key, shard):
    """The shard is the text after the last hyphen when shard-shaped, else au1."""
    assert shard_from_api_key(key) == shard


@given(
    body=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", min_size=1),
    shard=st.from_regex(r"[a-z]{2}[0-9]{1,2}", fullmatch=True),
)
def test_any_shaped_suffix_is_the_shard(body, shard):
    """No shard list is hard-coded: any shard-shaped suffix is taken as is."""
    assert shard_from_api_key(f"{body}-{shard}") == shard


def test_api_base_url_default_and_overrides():
    """The default host is sharded; an override may carry {shard} and loses a trailing slash."""
    assert api_base_url("au2") == "https://api.au2.cliniko.com/v1"
    assert api_base_url("UK1") == "https://api.uk1.cliniko.com/v1"
    assert api_base_url("au2", "http://127.0.0.1:5001/{shard}/v1/") == "http://127.0.0.1:5001/au2/v1"
    assert api_base_url("au2", "http://127.0.0.1:5001/v1") == "http://127.0.0.1:5001/v1"
    assert api_base_url("au2", "") == "https://api.au2.cliniko.com/v1"


@pytest.mark.parametrize("bad", ["evil.com/x", "au2.example", "", "a/1"])
def test_api_base_url_refuses_non_shards(bad):
    """A shard becomes part of a host name, so anything else is refused."""
    with pytest.raises(ValueError):
        api_base_url(bad)


def test_web_urls():
    """Web-app links use the account subdomain and shard."""
    assert web_base_url("acme-physio", "au2") == "https://acme-physio.au2.cliniko.com"
    assert (
        patient_web_url("acme", "ca1", "1390710863102485699")
        == "https://acme.ca1.cliniko.com/patients/1390710863102485699"
    )
    with pytest.raises(ValueError):
        web_base_url("evil.com/x", "au1")
