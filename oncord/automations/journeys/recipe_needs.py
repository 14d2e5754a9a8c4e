"""What a recipe needs set up before it can be turned on: a recipe whose messages use the review link
is refused until the clinic has one, rather than failing every message it would send."""

from __future__ import annotations

from sqlalchemy.orm import Session

from oncord.automations.journeys.recipes import Recipe
from oncord.clinic_profile import REVIEW_URL_SETTING, review_url

_REVIEW_FIELD = "review_url"


def _texts(recipe: Recipe) -> list[str]:
    return [recipe.email_subject, recipe.email_body, recipe.sms_body,
            *(part for step in recipe.steps for part in (step.subject, step.body))]


def missing_setting(session: Session, recipe: Recipe) -> str | None:
    """Why the recipe cannot be turned on yet, naming where to fix it; None when it can."""
    uses_review_link = any(_REVIEW_FIELD in text for text in _texts(recipe))
    if uses_review_link and review_url(session) is None:
        return (f"“{recipe.name}” asks patients for a review, so it needs the clinic's review link first. "
                f"An admin sets it in {REVIEW_URL_SETTING}; then turn the recipe on.")
    return None
