"""Contacts: the searchable list, the contact page with its activity feed, and the edit form."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from oncord.cliniko.errors import ClinikoError
from oncord.contacts.adding import add_contact
from oncord.contacts.consent import ChannelLock, ConsentActor, ConsentRefused, ledger, resubscribe_locks
from oncord.contacts.editing import CHANNELS, update_contact
from oncord.contacts.phones import phone_region
from oncord.contacts.queries import activity_feed, contact_summary, list_contacts, practitioner_choices
from oncord.context import cliniko_client_options, clock, secret_box, settings
from oncord.db import get_session
from oncord.forms.contacts import STATUS_LABELS, ContactFilterForm, ContactForm, CreatePatientForm
from oncord.integration import NotConnected, active_connection, client_for, patient_web_url
from oncord.jobs.sync_jobs import ensure_push_scheduled
from oncord.models import Contact
from oncord.sync.create_patient import AlreadyLinked, create_patient_for
from oncord.sync.outbox import open_changes
from oncord.web.auth import require_login
from oncord.web.htmx import redirect_to, render_fragment, render_page, wants_fragment
from oncord.web.timefmt import local_today, request_zone

bp = Blueprint("contacts", __name__, url_prefix="/contacts")
bp.before_request(require_login)

DEFAULT_PHONE_REGION = "AU"


def get_contact_or_404(session: Session, contact_id: int) -> Contact:
    """The contact, or a 404 page that suggests searching."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        abort(404)
    return contact


@bp.get("")
def index() -> Response:
    """The list; an htmx request (typing, filters, paging) gets only the results table."""
    db = get_session()
    form = ContactFilterForm(formdata=request.args)
    if not wants_fragment():
        form.set_practitioners(practitioner_choices(db))
    filters = form.filters()
    result = list_contacts(db, filters, region=DEFAULT_PHONE_REGION)
    response = render_page("contacts/index.html", "contacts/_results.html", form=form, result=result,
                           status_labels=STATUS_LABELS)
    if wants_fragment():
        # The address bar shows the canonical state, so reload and back give the same list.
        response.headers["HX-Push-Url"] = url_for("contacts.index", **filters.query_args())
    return response


def _new_form() -> ContactForm:
    # Pending until someone records how the person consented (a new form would offer Subscribed first).
    return ContactForm(data={"email_marketing_status": "pending", "sms_marketing_status": "pending"},
                       region=DEFAULT_PHONE_REGION,
                       today=local_today(clock().now(), settings().clinic_time_zone))


@bp.get("/new")
def new() -> Response:
    """The form for a contact who is not in Cliniko (e.g. signed up at reception)."""
    return render_page("contacts/new.html", "contacts/_new_form.html", form=_new_form())


@bp.post("/new")
def new_post() -> Response:
    """Add the contact with its first consent in the ledger, or show the form again (422)."""
    db = get_session()
    form = _new_form()
    if form.validate():
        try:
            contact = add_contact(db, form.values(), clock=clock(), actor=ConsentActor.staff(g.user),
                                  evidence=form.consent_evidence.data,
                                  default_region=settings().sms_default_region)
        except ConsentRefused as exc:
            db.rollback()
            getattr(form, CHANNELS[exc.channel]).errors.append(exc.user_message)
        else:
            db.commit()
            flash(f"{contact.full_name} was added. Edits stay in Oncord until the contact is in Cliniko.",
                  "success")
            return redirect_to(url_for("contacts.show", contact_id=contact.id))
    return render_page("contacts/new.html", "contacts/_new_form.html", form=form, status=422)


def _cliniko_url(contact: Contact) -> str | None:
    try:
        return patient_web_url(active_connection(get_session()), contact.cliniko_patient_id)
    except ValueError:  # a stored subdomain or shard that cannot make a safe URL
        return None


def _contact_page(contact: Contact, *, form: ContactForm | None = None, status: int = 200) -> Response:
    db = get_session()
    return render_page(
        "contacts/show.html",
        "contacts/_form.html" if form is not None else "contacts/_details.html",
        status=status,
        contact=contact,
        form=form,
        summary=contact_summary(db, contact, clock().now()),
        ledger=ledger(db, contact.id),
        consent_locks=_locks(contact),
        feed=activity_feed(db, contact.id),
        cliniko_url=_cliniko_url(contact),
        status_labels=STATUS_LABELS,
        cliniko_changes=open_changes(db, contact.id),
        create_patient_form=CreatePatientForm() if _can_create_patient(db, contact) else None,
    )


def _can_create_patient(db: Session, contact: Contact) -> bool:
    return contact.cliniko_patient_id is None and active_connection(db) is not None


@bp.post("/<int:contact_id>/cliniko-patient")
def create_cliniko_patient(contact_id: int) -> Response:
    """Create this contact as a patient in Cliniko and link the two."""
    db = get_session()
    contact = get_contact_or_404(db, contact_id)
    form = CreatePatientForm()
    connection = active_connection(db)
    if not form.validate() or connection is None:
        flash(NotConnected.user_message if connection is None else "Please try again.", "error")
        return redirect_to(url_for("contacts.show", contact_id=contact.id))
    # The real app, not the proxy; flask types current_app as Flask, which hides the
    # LocalProxy's _get_current_object, hence the ignore.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        with client_for(connection, settings(), secret_box(), **cliniko_client_options(app)) as client:
            create_patient_for(db, client, contact, clock())
    except (ClinikoError, AlreadyLinked) as exc:
        db.rollback()
        flash(exc.user_message, "error")
        return redirect_to(url_for("contacts.show", contact_id=contact.id))
    db.commit()
    flash(f"{contact.full_name} is now a patient in Cliniko, linked to this contact.", "success")
    return redirect_to(url_for("contacts.show", contact_id=contact.id))


@bp.get("/<int:contact_id>")
def show(contact_id: int) -> Response:
    """The contact page (htmx: the details panel, e.g. after cancelling an edit)."""
    contact = get_contact_or_404(get_session(), contact_id)
    if wants_fragment():
        return render_fragment("contacts/_details.html", contact=contact, status_labels=STATUS_LABELS,
                               cliniko_url=_cliniko_url(contact))
    return _contact_page(contact)


@bp.get("/<int:contact_id>/activity")
def activity(contact_id: int) -> Response:
    """The next page of the activity feed ("Load more")."""
    db = get_session()
    contact = get_contact_or_404(db, contact_id)
    if not wants_fragment():
        return redirect(url_for("contacts.show", contact_id=contact.id, _anchor="activity"))
    feed = activity_feed(db, contact.id, before=request.args.get("before"))
    return render_fragment("contacts/_feed_items.html", contact=contact, feed=feed)


def _locks(contact: Contact) -> dict[str, ChannelLock]:
    return resubscribe_locks(get_session(), contact, ConsentActor.staff(g.user))


def _form_for(contact: Contact) -> ContactForm:
    form = ContactForm(
        obj=contact if request.method == "GET" else None,
        region=phone_region(contact.country_code, settings().sms_default_region),
        today=local_today(clock().now(), request_zone()),
    )
    for channel, lock in _locks(contact).items():
        if lock.locked:
            form.lock_marketing(CHANNELS[channel])
    return form


@bp.get("/<int:contact_id>/edit")
def edit(contact_id: int) -> Response:
    """The edit form in place of the details panel (full page without htmx)."""
    contact = get_contact_or_404(get_session(), contact_id)
    form = _form_for(contact)
    if wants_fragment():
        return render_fragment("contacts/_form.html", contact=contact, form=form,
                               consent_locks=_locks(contact))
    return _contact_page(contact, form=form)


def _invalid(contact: Contact, form: ContactForm) -> Response:
    if wants_fragment():
        return render_fragment("contacts/_form.html", contact=contact, form=form, status=422,
                               consent_locks=_locks(contact))
    return _contact_page(contact, form=form, status=422)


@bp.post("/<int:contact_id>/edit")
def edit_post(contact_id: int) -> Response:
    """Save the edit, or show the form again with each problem next to its field (422)."""
    db = get_session()
    contact = get_contact_or_404(db, contact_id)
    form = _form_for(contact)
    if not form.validate():
        return _invalid(contact, form)
    try:
        result = update_contact(db, contact, form.values(), clock=clock(), actor=ConsentActor.staff(g.user),
                                evidence=form.consent_evidence.data,
                                default_region=settings().sms_default_region)
    except ConsentRefused as exc:
        db.rollback()
        getattr(form, CHANNELS[exc.channel]).errors.append(exc.user_message)
        return _invalid(contact, form)
    db.commit()
    if result.push_owed:
        # The real app, not the proxy; flask types current_app as Flask, which hides the
        # LocalProxy's _get_current_object, hence the ignore.
        ensure_push_scheduled(current_app._get_current_object())  # type: ignore[attr-defined]
        flash("Saved. The change goes to Cliniko within a few minutes.", "success")
    else:
        flash("Saved." if result.changed else "Nothing changed.", "success")
    return redirect_to(url_for("contacts.show", contact_id=contact.id))
