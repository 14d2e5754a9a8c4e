"""The {{ feedback_links }} merge field: "How likely are you to recommend us?" and 0-10 links.

The text part and an SMS get one short link to a page listing 0-10 (ten links would make an SMS
several segments long); the HTML part gets ten buttons, each opening that page with its score
chosen. Opening a link records nothing (mail scanners open every link): only the page's button does.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from oncord.feedback.tokens import make_token

QUESTION = "How likely are you to recommend us to a friend? 0–10"
SCORES = range(11)

_BUTTON = (
    '<a href="{href}" style="display:inline-block;min-width:28px;margin:0 4px 6px 0;padding:8px 4px;'
    'border:1px solid #9aa5b1;border-radius:4px;text-align:center;text-decoration:none;'
    'color:#1f2933;font-weight:bold">{score}</a>'
)


@dataclass(frozen=True)
class FeedbackLinks:
    """The merge field's plain text (what the text part and an SMS show) and its HTML buttons."""

    text: str
    html: Markup


def page_url(base_url: str, token: str, score: int | None = None) -> str:
    """The public feedback page, with a score chosen when given."""
    url = f"{base_url.rstrip('/')}/f/{token}"
    return url if score is None else f"{url}/{score}"


def feedback_links(base_url: str, secret_key: str, contact_id: int, reference: str, *,
                   test: bool = False) -> FeedbackLinks:
    """The merge field for one contact's message."""
    token = make_token(secret_key, contact_id, reference, test=test)
    text = f"{QUESTION}: {page_url(base_url, token)}"
    buttons = "".join(
        _BUTTON.format(href=escape(page_url(base_url, token, score)), score=score) for score in SCORES
    )
    html = Markup(
        f'{escape(QUESTION)}<br><span style="display:block;margin-top:8px">{buttons}</span>'
        '<span style="display:block;font-size:12px;color:#616e7c">0 = not at all likely, '
        "10 = extremely likely</span>"
    )
    return FeedbackLinks(text=text, html=html)
