"""Cliniko's embed code: read liberally (any wrapper, quoting or script), rendered as one canonical iframe."""

from __future__ import annotations

import pytest

from oncord.bookings.embed import BookingEmbed, InvalidEmbed, parse_embed_code, read_embed_code
from oncord.bookings.urls import BookingsUrl
from tests.bookings.samples import (
    CANONICAL,
    CANONICAL_WITH_PAYMENT,
    DOCUMENTED_CODE,
    ELEMENT_ID,
    IFRAME,
    PAYMENT_VARIANT,
    SCRIPT,
    SRC,
    VARIANTS,
    code_with,
)

GOOD = SRC
OTHER_CLINIC = "https://rival.au2.cliniko.com/bookings?embedded=true"
SUNNYSIDE = frozenset({("sunnyside", "au1")})


def iframe(src: str = GOOD, extra: str = "") -> str:
    """Cliniko's iframe with another address or extra attributes."""
    return (f"<iframe id='{ELEMENT_ID}' src='{src}' frameborder='0' scrolling='auto' width='100%' "
            f"height='1000' style='pointer-events: auto;'{extra}></iframe>")


def test_documented_code_is_reduced_to_values() -> None:
    """The snippet from §9 gives its host, id and height, and nothing else is kept."""
    embed = parse_embed_code(DOCUMENTED_CODE)
    assert embed.url == BookingsUrl(subdomain="sunnyside", shard="au1")
    assert embed.src == "https://sunnyside.au1.cliniko.com/bookings?embedded=true"
    assert embed.element_id == ELEMENT_ID
    assert embed.height == 1000
    assert embed.allow_payment is False
    assert embed.origin == "https://sunnyside.au1.cliniko.com"


@pytest.mark.parametrize("code", VARIANTS.values(), ids=VARIANTS.keys())
def test_every_realistic_variant_becomes_the_one_canonical_iframe(code: str) -> None:
    """Wrappers, quoting, attribute order and the resize script do not matter; the rendered iframe is one."""
    reading = read_embed_code(code, allowed_accounts=SUNNYSIDE)
    assert reading.iframe == CANONICAL
    assert "width" not in reading.iframe and "<script" not in reading.iframe


def test_payment_permission_is_the_one_permission_passed_on() -> None:
    """allow="payment" survives; any other permission the paste asks for does not."""
    assert read_embed_code(PAYMENT_VARIANT).iframe == CANONICAL_WITH_PAYMENT
    assert read_embed_code(iframe(extra=" allow='camera; microphone'")).iframe == CANONICAL


@pytest.mark.parametrize(
    ("code", "kept"),
    [
        (IFRAME, "Kept Cliniko's booking widget for sunnyside.au1.cliniko.com."),
        (DOCUMENTED_CODE, "Kept Cliniko's booking widget for sunnyside.au1.cliniko.com and left out the "
                          "<script>; this page resizes the widget itself."),
        (VARIANTS["wrapped-in-a-div"], "Kept Cliniko's booking widget for sunnyside.au1.cliniko.com and left "
                                       "out the <script> and <div>; this page resizes the widget itself."),
        (code_with(iframe(GOOD + "&business_id=5", " allow='payment'")),
         "Kept Cliniko's booking widget for sunnyside.au1.cliniko.com (business 5, online payments allowed) "
         "and left out the <script>; this page resizes the widget itself."),
        (iframe("https://www.youtube.com/embed/x") + IFRAME,
         "Kept Cliniko's booking widget for sunnyside.au1.cliniko.com and left out the 1 other iframe."),
    ],
    ids=["bare-iframe", "documented", "wrapped", "preselected-with-payment", "beside-a-video"],
)
def test_staff_are_told_in_one_sentence_what_was_kept(code: str, kept: str) -> None:
    """The sentence names the host, what the widget preselects, and what was dropped."""
    assert read_embed_code(code).kept == kept


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (iframe("https://acme.cliniko.com/bookings?embedded=true"), "https://acme.cliniko.com/bookings?embedded=true"),
        (iframe(GOOD + "&amp;business_id=331656748404315&amp;practitioner_id=12"),
         GOOD + "&business_id=331656748404315&practitioner_id=12"),
        (iframe("https://acme.uk2.cliniko.com/bookings/?appointment_type_id=7&embedded=true"),
         "https://acme.uk2.cliniko.com/bookings?embedded=true&appointment_type_id=7"),
        (iframe("https://sunnyside.au1.cliniko.com/bookings"), GOOD),
        (f'<IFRAME ID="{ELEMENT_ID}" SRC="{GOOD}" WIDTH="100%" HEIGHT="1200px"></IFRAME>', GOOD),
        (SCRIPT + "\n" + IFRAME + IFRAME, GOOD),
        (f"<iframe src='{GOOD}'>", GOOD),
    ],
    ids=["legacy-au1-host", "preselected-with-entities", "trailing-slash-and-order", "no-embedded-flag",
         "upper-case", "script-first-and-pasted-twice", "unclosed"],
)
def test_addresses_are_rebuilt_canonically(code: str, expected: str) -> None:
    """The iframe address is rebuilt from its checked parts, never echoed as pasted."""
    assert parse_embed_code(code).src == expected


def test_height_comes_from_the_attribute_or_style_and_is_clamped() -> None:
    """A silly height cannot make the widget vanish or fill a mile of page."""
    assert parse_embed_code(iframe().replace("height='1000'", "height='5'")).height == 200
    assert parse_embed_code(iframe().replace("height='1000'", "height='99999'")).height == 10_000
    assert parse_embed_code(f"<iframe src='{GOOD}' style='border:0; height: 1400px'></iframe>").height == 1400
    assert parse_embed_code(f"<iframe src='{GOOD}' height='100%'></iframe>").height == 1000


def test_an_id_that_is_not_clinikos_is_dropped() -> None:
    """Only Cliniko's cliniko-<digits> id is kept; another id cannot collide with the page's own."""
    assert parse_embed_code(iframe().replace(ELEMENT_ID, "main-nav")).element_id is None


def test_canonical_code_reads_back_to_the_same_embed() -> None:
    """What the editor shows after Apply can be applied again unchanged."""
    embed = parse_embed_code(code_with(iframe(GOOD + "&business_id=5", " allow='payment'")))
    assert parse_embed_code(embed.canonical_code()) == embed


def test_stored_values_are_checked_again() -> None:
    """A stored embed rebuilds only from values that still validate."""
    embed = parse_embed_code(DOCUMENTED_CODE)
    assert BookingEmbed.from_dict(embed.to_dict()) == embed
    tampered = embed.to_dict()
    tampered["url"]["subdomain"] = "evil.example.com/x"
    with pytest.raises(InvalidEmbed):
        BookingEmbed.from_dict(tampered)
    with pytest.raises(InvalidEmbed, match="height"):
        BookingEmbed.from_dict({**embed.to_dict(), "height": "1000; border:0"})


def test_allow_list_admits_the_clinics_account_in_either_host_form() -> None:
    """An au1 clinic's embed may use the sharded or the legacy host."""
    assert parse_embed_code(DOCUMENTED_CODE, allowed_accounts=SUNNYSIDE)
    assert parse_embed_code(iframe("https://sunnyside.cliniko.com/bookings?embedded=true"),
                            allowed_accounts=SUNNYSIDE)


WHERE = "Settings → Online bookings"
HOSTILE = [
    # (id, code, words the message must contain)
    ("other-host", iframe("https://evil.example.com/bookings?embedded=true"), "not a Cliniko bookings host"),
    ("lookalike-host", iframe("https://sunnyside.au1.cliniko.com.evil.com/bookings"),
     "not a Cliniko bookings host"),
    ("userinfo", iframe("https://sunnyside.au1.cliniko.com@evil.com/bookings"), "user name or password"),
    ("backslash", iframe("https://evil.com\\@sunnyside.au1.cliniko.com/bookings"), "'\\\\'"),
    ("port", iframe("https://sunnyside.au1.cliniko.com:8443/bookings"), "port"),
    ("plain-http", iframe("http://sunnyside.au1.cliniko.com/bookings?embedded=true"), "https://"),
    ("javascript-url", iframe("javascript:alert(document.cookie)"), "javascript:"),
    ("entity-encoded-javascript", iframe("&#106;avascript:alert(1)"), "javascript:"),
    ("data-url", iframe("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="), "data:"),
    ("protocol-relative", iframe("//evil.com/bookings"), "starting with https://"),
    ("newline-in-scheme", iframe("java\nscript:alert(1)"), "control character"),
    ("unicode-lookalike", iframe("https://sunnysіde.au1.cliniko.com/bookings"),
     "does not belong in a web address"),
    ("cliniko-own-site", iframe("https://www.cliniko.com/bookings"), "Cliniko's own site"),
    ("other-path", iframe("https://sunnyside.au1.cliniko.com/patients/1"), "/bookings"),
    ("extra-parameter", iframe(GOOD + "&redirect_to=https://evil.com"), "'redirect_to'"),
    ("non-numeric-id", iframe(GOOD + "&business_id=1%20OR%201=1"), "business_id must be"),
    ("embed-with-fragment", iframe(GOOD + "#x"), "# part"),
    ("onload-handler", code_with(iframe(extra=" onload='alert(1)'")), "event handler (onload=…)"),
    ("onload-in-a-wrapper", f"<div>{iframe(extra=' ONLOAD=alert(1)')}</div>", "event handler (onload=…)"),
    ("srcdoc", code_with(iframe(extra=" srcdoc='<script>alert(1)</script>'")), "srcdoc"),
    ("srcdoc-only", "<iframe srcdoc='<script>alert(1)</script>'></iframe>", "srcdoc"),
    ("duplicate-src", iframe(GOOD).replace("<iframe ", "<iframe src='https://evil.com/' "), "src) twice"),
    ("iframe-only-inside-a-script", f"<script>document.write(\"{IFRAME}\")</script>",
     "no Cliniko booking iframe"),
    ("iframe-only-in-a-comment", f"<!-- {IFRAME} -->", "no Cliniko booking iframe"),
    ("a-link", f"<a href='{GOOD}'>Book</a>", "no Cliniko booking iframe"),
    ("script-only", SCRIPT, "no Cliniko booking iframe"),
    ("url-not-code", GOOD, "web address, not the embed code"),
    ("nothing", "   ", "Nothing was pasted"),
    ("overlong", DOCUMENTED_CODE * 40, "far longer"),
]


@pytest.mark.parametrize(("code", "expected"), [case[1:] for case in HOSTILE],
                         ids=[case[0] for case in HOSTILE])
def test_hostile_code_is_refused_naming_the_problem_and_what_to_copy(code: str, expected: str) -> None:
    """Other hosts, script URLs, handlers and srcdoc never get through; staff learn why and what to copy."""
    with pytest.raises(InvalidEmbed) as refused:
        read_embed_code(code)
    assert expected in str(refused.value)
    assert WHERE in str(refused.value)


def test_another_clinics_account_is_refused_when_the_clinic_is_known() -> None:
    """With the clinic's bookings host known, a different Cliniko account is refused by name."""
    with pytest.raises(InvalidEmbed, match="rival.au2.cliniko.com.*sunnyside.au1.cliniko.com"):
        read_embed_code(iframe(OTHER_CLINIC), allowed_accounts=SUNNYSIDE)
    # Beside the clinic's own widget, another account's iframe is simply left out.
    assert read_embed_code(IFRAME + iframe(OTHER_CLINIC), allowed_accounts=SUNNYSIDE).iframe == CANONICAL


def test_two_different_widgets_in_one_paste_are_refused() -> None:
    """Which one staff meant is not guessed: each widget gets a block of its own."""
    with pytest.raises(InvalidEmbed, match="2 different booking widgets.*one booking widget block for each"):
        read_embed_code(IFRAME + iframe(OTHER_CLINIC))
