"""Turning on a recall or birthday journey: the server-side confirmation step.

The page names how many patients the trigger matches now and asks whether to start them or only
new ones; nothing starts until that form (with its CSRF token) comes back with a choice.
"""

from __future__ import annotations

from flask import Blueprint, flash, url_for
from werkzeug.wrappers import Response

from oncord.automations.enablement import matching_now, switch_on
from oncord.automations.triggers import Option, trigger_def
from oncord.context import clock, settings
from oncord.db import get_session
from oncord.forms.switch_on import SwitchOnForm
from oncord.models import Automation, Backfill
from oncord.web.auth import require_login
from oncord.web.automations import get_automation_or_404
from oncord.web.htmx import redirect_to, render_page

bp = Blueprint("switch_on", __name__, url_prefix="/automations")
bp.before_request(require_login)


@bp.get("/<int:automation_id>/switch-on")
def confirm(automation_id: int) -> Response:
    """"N patients match now: start them now, or only new ones?" (changes nothing)."""
    db = get_session()
    automation = get_automation_or_404(db, automation_id)
    form = SwitchOnForm(recall_months=automation.recall_months)
    return _page(automation, form)


@bp.post("/<int:automation_id>/switch-on")
def choose(automation_id: int) -> Response:
    """Turn it on with the choice made; "start them now" enters the people matching at once."""
    db = get_session()
    automation = get_automation_or_404(db, automation_id)
    form = SwitchOnForm()
    if not form.validate():
        return _page(automation, form, status=422)
    if Option.RECALL_MONTHS in trigger_def(automation.trigger).options:
        automation.recall_months = form.recall_months.data
    if automation.enabled:
        flash(f"“{automation.name}” is already on.", "success")
        return redirect_to(url_for("automations.index"))
    entered = switch_on(db, automation, Backfill(form.backfill.data), clock(), settings())
    db.commit()
    started = f" {entered} patient{'s' if entered != 1 else ''} started now." if entered else ""
    flash(f"“{automation.name}” is on.{started}", "success")
    return redirect_to(url_for("automations.index"))


def _page(automation: Automation, form: SwitchOnForm, *, status: int = 200) -> Response:
    db = get_session()
    entry = trigger_def(automation.trigger)
    count = matching_now(db, automation, clock().now(), settings())
    return render_page("automations/switch_on.html", "automations/_switch_on.html", status=status,
                       automation=automation, form=form, count=count, entry=entry,
                       asks_months=Option.RECALL_MONTHS in entry.options)
