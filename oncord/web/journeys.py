"""Journeys: the journey screen (steps, counts per step, editing) and the recipes."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from werkzeug.wrappers import Response

from oncord.attribution.figures import journey_bookings
from oncord.automations.editing import describe_trigger
from oncord.automations.journeys.builder import (
    NEW_STEPS,
    DraftStep,
    apply_action,
    checked_steps,
    draft_of,
    read_draft,
)
from oncord.automations.journeys.choices import appointment_types
from oncord.automations.journeys.editing import save_if_changed
from oncord.automations.journeys.overview import overview
from oncord.automations.journeys.recipe_needs import missing_setting
from oncord.automations.journeys.recipes import BY_KEY, RECIPES, cliniko_reminded, turn_on
from oncord.automations.journeys.steps import TEST_WORDS
from oncord.automations.journeys.versions import current_version, steps_of
from oncord.automations.triggers import trigger_def
from oncord.context import clock, settings
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


def _page(automation_id: int, *, problems: list[str], drafts: list[DraftStep] | None = None,
          status: int = 200) -> Response:
    db = get_session()
    automation = get_automation_or_404(db, automation_id)
    figures = overview(db, automation.id)
    if figures is None:
        abort(404)
    unsaved = drafts is not None
    if drafts is None:
        drafts = draft_of([row.step for row in figures.steps])
    return render_page("automations/journey.html", "automations/_journey.html", status=status,
                       automation=automation, figures=figures, problems=problems, form=ToggleForm(),
                       describe_trigger=describe_trigger, drafts=drafts, unsaved=unsaved,
                       new_steps=NEW_STEPS, test_words=TEST_WORDS, appointment_types=appointment_types(db),
                       bookings=journey_bookings(db, automation.id),
                       attribution_window_days=settings().attribution_window_days)


@bp.post("/<int:automation_id>/journey")
def save(automation_id: int) -> Response:
    """A builder action (add, remove, move a step: the changed draft, not saved yet), or Save: the
    draft checked and saved as a new version; contacts already in the journey finish on theirs."""
    db = get_session()
    automation = get_automation_or_404(db, automation_id)
    version = current_version(db, automation.id)
    if version is None:
        abort(404)
    old = steps_of(version)
    drafts = read_draft(old, request.form)
    action = request.form.get("action", "save")
    if action != "save":
        drafts, problem = apply_action(drafts, action, request.form.get("new-kind", ""))
        return _page(automation_id, drafts=drafts, problems=[problem] if problem else [],
                     status=422 if problem else 200)
    new, problems = checked_steps(drafts, {type_id for type_id, _ in appointment_types(db)})
    if problems:
        return _page(automation_id, drafts=drafts, problems=problems, status=422)
    saved = save_if_changed(db, automation.id, old, new, clock().now())
    db.commit()
    if saved is not None:
        flash(f"Saved as version {saved.number}. Contacts already in the journey finish on the version they "
              "started.", "success")
    return redirect_to(url_for("journeys.show", automation_id=automation.id))


@bp.get("/recipes")
def recipes() -> Response:
    """Ready-made automations to turn on with one click."""
    return _recipes_page(problem=None)


def _recipes_page(*, problem: str | None, status: int = 200) -> Response:
    return render_page("automations/recipes.html", "automations/_recipes.html", status=status,
                       recipes=RECIPES, form=ToggleForm(), cliniko_reminded=cliniko_reminded(get_session()),
                       problem=problem)


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
    problem = missing_setting(db, recipe)
    if problem is not None:
        return _recipes_page(problem=problem, status=422)
    automation = turn_on(db, recipe, clock())
    db.commit()
    if trigger_def(automation.trigger).state_based:
        # It stays off until staff choose about the patients who match already.
        return redirect_to(url_for("switch_on.confirm", automation_id=automation.id))
    flash(f"“{automation.name}” is on. Edit its messages and timing below.", "success")
    if recipe.steps:
        return redirect_to(url_for("journeys.show", automation_id=automation.id))
    return redirect_to(url_for("automations.edit", automation_id=automation.id))
