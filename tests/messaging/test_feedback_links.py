"""The {{ feedback_links }} merge field: one short link in an SMS and the text part, ten buttons in
the HTML part, each token naming the contact and its message (a preview's names none)."""

from __future__ import annotations

import re

from oncord.feedback.links import feedback_links
from oncord.feedback.tokens import read_token
from oncord.messaging.templates import check_template, render_email

SECRET = "s" * 40


def test_the_text_is_one_link_and_the_html_ten_buttons_with_one_token() -> None:
    """A patient's message: the token names them and the send; HTML has a link per score."""
    links = feedback_links("https://oncord.example/", SECRET, 12, "automation-send:34")
    [token] = re.findall(r"https://oncord\.example/f/(\S+)$", links.text)
    found = read_token(SECRET, token)
    assert found is not None and (found.contact_id, found.send_id) == (12, 34)
    assert re.findall(r'href="https://oncord\.example/f/([^/"]+)/(\d+)"', links.html) == [
        (token, str(score)) for score in range(11)
    ]
    email = render_email("Hi", "How did we do?\n\n{{ feedback_links }}", {"feedback_links": links.text},
                         sender_name="Clinic", footer=[], unsubscribe_url=None,
                         swaps=[(links.text, links.html)])
    assert links.text in email.text
    assert email.html.count("/f/") == 11 and links.html in email.html


def test_a_preview_token_is_a_test_and_a_forged_one_is_nothing() -> None:
    """A preview's link records nothing; a token signed with another key is not ours."""
    preview = feedback_links("https://o.example", SECRET, 12, "automation-preview").text.rsplit("/", 1)[1]
    found = read_token(SECRET, preview)
    assert found is not None and found.is_test
    forged = feedback_links("https://o.example", "x" * 40, 12, "automation-send:34").text.rsplit("/", 1)[1]
    assert read_token(SECRET, forged) is None


def test_the_editor_accepts_the_merge_field() -> None:
    """Staff can write {{ feedback_links }} in an automation's message."""
    assert check_template("Hi {{ first_name }}, {{ feedback_links }}") == []
