"""Settings → Online bookings (admins): the clinic as public pages show it, its Cliniko bookings address,
and the Book Now snippets."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from oncord.bookings.settings import bookings_url, clinic_settings, update_clinic_settings
from oncord.bookings.snippets import BUTTON_LABEL, LINK_TEXT, button_snippet, link_snippet
from oncord.bookings.urls import account_of
from oncord.clinic_profile import (
    clinic_profile,
    remove_logo,
    store_logo,
    update_clinic_details,
    update_review_url,
)
from oncord.context import clock, settings
from oncord.db import get_session
from oncord.forms.pages import OnlineBookingsForm
from oncord.integration import active_connection
from oncord.messaging.design import store_brand_colour
from oncord.web.auth import require_admin
from oncord.web.htmx import redirect_to, render_page
from oncord.web.public import page_cache

bp = Blueprint("online_bookings", __name__, url_prefix="/settings/online-bookings")
bp.before_request(require_admin)


def _context(session: Session, form: OnlineBookingsForm) -> dict[str, Any]:
    url = bookings_url(session)
    connection = active_connection(session)
    account = account_of(connection.account_subdomain, connection.shard) if connection else None
    suggestion = f"https://{account[0]}.{account[1]}.cliniko.com/bookings" if account else None
    return {
        "form": form,
        "url": url,
        "suggestion": suggestion,
        "connection": connection,
        "profile": clinic_profile(session),
        "button_label": BUTTON_LABEL,
        "link_text": LINK_TEXT,
        "button_html": button_snippet(url) if url else None,
        "link_html": link_snippet(url) if url else None,
    }


@bp.get("/")
def index() -> Response:
    """The form, and (once an address is saved) the Book Now button and link with their HTML."""
    db = get_session()
    row = clinic_settings(db)
    stored = {"clinic_name": row.clinic_name, "bookings_url": row.bookings_url, "address": row.address,
              "phone": row.phone, "privacy_url": row.privacy_url, "brand_colour": row.brand_colour,
              "review_url": row.review_url}
    form = OnlineBookingsForm(data={name: value or "" for name, value in stored.items()},
                              region=settings().sms_default_region)
    return render_page("online_bookings/page.html", "online_bookings/_form.html", **_context(db, form))


@bp.post("/")
def save() -> Response:
    """Store the validated details, logo and address (or clear them); public pages show them at once."""
    db = get_session()
    form = OnlineBookingsForm(region=settings().sms_default_region)
    if not form.validate():
        return render_page("online_bookings/page.html", "online_bookings/_form.html", status=422,
                           **_context(db, form))
    update_clinic_settings(db, clinic_name=form.clinic_name.data, bookings_url=form.parsed_url, clock=clock())
    update_clinic_details(db, address=form.address.data, phone=form.phone.data,
                          privacy_url=form.privacy_url.data, clock=clock())
    store_brand_colour(db, form.brand_colour.data, clock=clock())
    update_review_url(db, form.review_url.data, clock=clock())
    if form.new_logo is not None:
        store_logo(db, form.new_logo, clock=clock())
    elif form.remove_logo.data:
        remove_logo(db)
    db.commit()
    page_cache().invalidate()
    if form.parsed_url is None:
        flash("Saved. No bookings address is set, so Book Now buttons are hidden on your pages.", "success")
    else:
        flash(f"Saved. Book Now buttons now open {form.parsed_url.link_url}.", "success")
    return redirect_to(url_for("online_bookings.index"))
