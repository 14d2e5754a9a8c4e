"""The clinic profile's checks: logos that decode as PNG/JPEG/WebP within limits, phones, privacy links."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from oncord.clinic_profile import (
    MAX_LOGO_BYTES,
    ClinicProfile,
    InvalidClinicDetail,
    check_address,
    check_phone,
    check_privacy_url,
    read_logo,
)


def image_bytes(kind: str, size: tuple[int, int] = (120, 40), **options) -> bytes:
    """A small image in a format Pillow writes."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (27, 106, 216)).save(buffer, kind, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(("kind", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"),
                                                 ("WEBP", "image/webp")])
def test_png_jpeg_and_webp_are_accepted_with_their_media_type(kind: str, media_type: str) -> None:
    """The media type comes from the decoded image, not from what the upload claimed."""
    logo = read_logo(image_bytes(kind))
    assert (logo.media_type, logo.width, logo.height) == (media_type, 120, 40)
    assert len(logo.digest) == 64


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
REFUSED = [
    ("svg", SVG, "SVG logos are not accepted"),
    ("bare-svg", b"  <svg onload='alert(1)'></svg>", "SVG logos are not accepted"),
    ("html", b"<html><script>alert(1)</script></html>", "not a PNG, JPEG or WebP"),
    ("text", b"just some text", "not a PNG, JPEG or WebP"),
    ("gif", image_bytes("GIF"), "not a PNG, JPEG or WebP"),
    ("truncated-png", image_bytes("PNG", (400, 400))[:200], "not a PNG, JPEG or WebP"),
    ("png-header-only", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "not a PNG, JPEG or WebP"),
    ("empty", b"", "empty"),
    ("too-wide", image_bytes("PNG", (4001, 10)), "4001×10 pixels"),
    ("oversized", image_bytes("PNG", (10, 10)) + b"\0" * MAX_LOGO_BYTES, "keep it under 512 KB"),
]


@pytest.mark.parametrize(("data", "reason"), [case[1:] for case in REFUSED],
                         ids=[case[0] for case in REFUSED])
def test_anything_but_a_small_decodable_image_is_refused(data: bytes, reason: str) -> None:
    """SVG, other formats, broken and oversized files get a reason staff can act on."""
    with pytest.raises(InvalidClinicDetail, match=reason):
        read_logo(data)


def test_a_decompression_bomb_is_refused_without_decoding_it() -> None:
    """A tiny file claiming a huge picture is refused (Pillow's bomb check is an error here)."""
    bomb = image_bytes("PNG", (1, 1))
    # Rewrite the IHDR width and height to 30000 × 30000 (the CRC then fails too: either is refused).
    bomb = bomb[:16] + (30000).to_bytes(4, "big") + (30000).to_bytes(4, "big") + bomb[24:]
    with pytest.raises(InvalidClinicDetail):
        read_logo(bomb)


@pytest.mark.parametrize("phone", ["(03) 9000 1234", "+61 3 9000 1234", "1300 123 456", "0412 345 678"])
def test_phone_numbers_patients_can_dial_are_kept_as_written(phone: str) -> None:
    """The number is stored as typed; its tel: link carries only digits and +."""
    assert check_phone(f"  {phone} ", "AU") == phone
    assert ClinicProfile(name="x", phone=phone).phone_href == "tel:" + phone.replace(" ", "").replace(
        "(", "").replace(")", "")


@pytest.mark.parametrize(("phone", "reason"), [("call us", "digits"), ("<script>", "digits"),
                                               ("12", "digits"), ("+61 3 9000 1234 5678 9999", "too many")])
def test_what_is_not_a_phone_number_is_refused(phone: str, reason: str) -> None:
    """Letters, markup and impossible lengths are refused."""
    with pytest.raises(InvalidClinicDetail, match=reason):
        check_phone(phone, "AU")


def test_privacy_link_is_a_web_page() -> None:
    """https or one of the clinic's pages; script and mail links are refused."""
    assert check_privacy_url(" https://www.sunnyside.example/privacy ") == "https://www.sunnyside.example/privacy"
    assert check_privacy_url("/privacy") == "/privacy"
    assert check_privacy_url("") is None
    for bad in ("javascript:alert(1)", "mailto:privacy@sunnyside.example", "http://x.example/p"):
        with pytest.raises(InvalidClinicDetail):
            check_privacy_url(bad)


def test_address_is_plain_lines() -> None:
    """Lines are kept; control characters are refused."""
    assert check_address("12 Beach Rd\r\nSunnyside VIC 3000\n") == "12 Beach Rd\nSunnyside VIC 3000"
    assert ClinicProfile(name="x", address="12 Beach Rd\nSunnyside VIC 3000").address_lines == [
        "12 Beach Rd", "Sunnyside VIC 3000"]
    with pytest.raises(InvalidClinicDetail):
        check_address("12 Beach Rd\x07")
