"""Blueprints, one per screen area."""

from __future__ import annotations

from flask import Flask

from oncord.web import (
    auth,
    automations,
    booking_links,
    campaigns,
    clinic,
    contacts,
    dashboard,
    email_preview,
    errors,
    exports,
    feedback,
    health,
    journeys,
    linkify,
    messaging,
    online_bookings,
    pages,
    presenters,
    public,
    settings,
    switch_on,
    timefmt,
)
from oncord.web.htmx import htmx


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint to the app."""
    app.register_blueprint(health.bp)
    htmx.init_app(app)
    timefmt.init_app(app)
    linkify.init_app(app)
    presenters.init_app(app)
    errors.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(auth.account)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(contacts.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(automations.bp)
    app.register_blueprint(journeys.bp)
    app.register_blueprint(switch_on.bp)
    app.register_blueprint(messaging.public)
    app.register_blueprint(booking_links.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(messaging.outbox)
    app.register_blueprint(messaging.messaging_settings)
    app.register_blueprint(campaigns.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(online_bookings.bp)
    app.register_blueprint(clinic.bp)
    app.register_blueprint(email_preview.bp)
    # Last, and only /<slug>: every other route wins over it, and its slugs avoid their prefixes.
    app.register_blueprint(public.bp)
