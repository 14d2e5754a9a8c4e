"""What makes a password acceptable: long enough and not guessable (zxcvbn score 3 or more).

zxcvbn estimates how many guesses a password takes, knowing the common passwords, names, words,
keyboard patterns, dates and the person's own e-mail; score 3 is "safely unguessable: moderate
protection from an offline attack". The login throttle covers the online attack.
"""

from __future__ import annotations

import re

from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 10
MIN_SCORE = 3
# zxcvbn judges the first 72 characters (its run time grows with the length); more only adds.
_CHECKED_LENGTH = 72  # zxcvbn refuses longer input
_WORDS = re.compile(r"[a-z]+")
# Words that anyone guessing a clinic's logins would try first.
_PRODUCT_WORDS = ["oncord", "cliniko", "clinic", "physio", "reception", "admin"]


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why this password is refused, in words for staff, or None when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
    own_words = _WORDS.findall(email.lower())
    result = zxcvbn(password[:_CHECKED_LENGTH], user_inputs=[email.lower(), *own_words, *_PRODUCT_WORDS])
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    warning = feedback.get("warning") or "This password would be easy to guess."
    advice = " ".join(feedback.get("suggestions") or []) or "Add another word or two."
    return f"{warning.rstrip('.')}. {advice} A few unrelated words make a good password."
