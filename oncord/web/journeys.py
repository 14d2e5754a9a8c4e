"""Journeys: the journey screen (steps, counts per step, editing) and the recipes."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from werkzeug.wrappers import Response

from oncord.automations.editing import describe_trigger
from oncord.automations.journeys.editing import edited_steps, save_if_changed
from oncord.automations.journeys.overview import overview
from oncord.automations.journeys.recipes import BY_KEY, RECIPES, cliniko_reminded, turn_on
from oncord.automations.journeys.versions import current_version, steps_of
from oncord.automations.triggers import trigger_def
from oncord.context import clock
from oncord.db import get_session
from oncord.forms.automations import ToggleForm
from oncord.web.auth import require_login
from oncord.web.automations import get_automation_or_404
from oncord.web.htmx import redirect_to, render_page

bp = Blueprint("journeys", __name__, url_prefix="/automations")
bp.before_request(require_login)


@bp.app_template_global()
def has_journey(automation_id: int) -> bool:
    """Whether the automation has steps of its own (the list links its journey screen)."""
    return current_version(get_session(), automation_id) is not None


@bp.get("/<int:automation_id>/journey")
def show(automation_id: int) -> Response:
    """The journey's steps with how many contacts are at each, and the steps' editor."""
    return _page(automation_id, problems=[])


def _page(automation_id: int, *, problems: list[str], status: int = 200) -> Response:
    db = get_session()
    automation = get_automation_or_404(db, automation_id)
    figures = overview(db, automation.id)
    if figures is None:
        abort(404)
    return render_page("automations/journey.html", "automations/_journey.html", status=status,
                       automation=automation, figures=figures, problems=problems, form=ToggleForm(),
                       describe_trigger=describe_trigger, values=request.form)


@bp.post("/<int:automation_id>/journey")
def save(automation_id: int) -> Response:
    """Save edited steps as a new version; contacts already in the journey finish on theirs."""
    db = get_session()
    automation = get_automation_or_404(db, automation_id)
    version = current_version(db, automation.id)
    if version is None:
        abort(404)
    old = steps_of(version)
    new, problems = edited_steps(old, request.form)
    if problems:
        return _page(automation_id, problems=problems, status=422)
    saved = save_if_changed(db, automation.id, old, new, clock().now())
    db.commit()
    if saved is not None:
        flash(f"Saved as version {saved.number}. Contacts already in the journey finish on the version they "
              "started.", "success")
    return redirect_to(url_for("journeys.show", automation_id=automation.id))


@bp.get("/recipes")
def recipes() -> Response:
    """Ready-made automations to turn on with one click."""
    return render_page("automations/recipes.html", "automations/_recipes.html", recipes=RECIPES,
                       form=ToggleForm(), cliniko_reminded=cliniko_reminded(get_session()))


@bp.post("/recipes/<key>")
def use_recipe(key: str) -> Response:
    """Turn a recipe on now (nothing before now fires) and open it for editing."""
    recipe = BY_KEY.get(key)
    if recipe is None or not recipe.available:
        abort(404)
    form = ToggleForm()
    if not form.validate():
        abort(400)
    db = get_session()
    automation = turn_on(db, recipe, clock())
    db.commit()
    if trigger_def(automation.trigger).state_based:
        # It stays off until staff choose about the patients who match already.
        return redirect_to(url_for("switch_on.confirm", automation_id=automation.id))
    flash(f"“{automation.name}” is on. Edit its messages and timing below.", "success")
    if recipe.steps:
        return redirect_to(url_for("journeys.show", automation_id=automation.id))
    return redirect_to(url_for("automations.edit", automation_id=automation.id))
