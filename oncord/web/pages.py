"""Website pages (staff): the list, the block editor with its sidebar, preview, and Book Now in one click."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from oncord.bookings.blocks import BLOCK_LABELS, Block, block_from_dict, new_block, stored_blocks
from oncord.bookings.pages import (
    PageError,
    book_now_page,
    create_book_now_page,
    create_page,
    delete_page,
    list_pages,
    read_blocks,
    save_page,
)
from oncord.bookings.settings import allowed_accounts, bookings_url
from oncord.bookings.urls import BookingsValidationError
from oncord.context import clock
from oncord.db import get_session
from oncord.forms.pages import SETTINGS_FORMS, NewPageForm, PageForm, settings_form_for
from oncord.forms.settings import ActionForm
from oncord.models import Page
from oncord.web.auth import require_login
from oncord.web.htmx import redirect_to, render_fragment, render_page, with_alert
from oncord.web.public import page_cache, render_public_page, reserved_slugs_for, send_page

bp = Blueprint("pages", __name__, url_prefix="/pages")
bp.before_request(require_login)


def get_page_or_404(session: Session, page_id: int) -> Page:
    """The page, or a 404."""
    page = session.get(Page, page_id)
    if page is None:
        abort(404)
    return page


def _block_options(session: Session) -> dict[str, Any]:
    return {"allowed_accounts": allowed_accounts(session), "bookings": bookings_url(session)}


def _common(session: Session) -> dict[str, Any]:
    return {"bookings": bookings_url(session), "block_labels": BLOCK_LABELS}


@bp.get("/")
def index() -> Response:
    """Every page, with the offer to create a Book Now page when there is none."""
    db = get_session()
    return render_page("pages/index.html", "pages/_list.html", pages=list_pages(db),
                       book_now=book_now_page(db), action_form=ActionForm(), **_common(db))


@bp.get("/new")
def new() -> Response:
    """The new-page form."""
    db = get_session()
    form = NewPageForm(reserved=reserved_slugs_for())
    return render_page("pages/new.html", "pages/_new_form.html", form=form,
                       book_now=book_now_page(db), action_form=ActionForm(), **_common(db))


@bp.post("/new")
def create() -> Response:
    """Create a draft page and open it in the editor."""
    reserved = reserved_slugs_for()
    form = NewPageForm(reserved=reserved)
    db = get_session()
    if form.validate():
        try:
            page = create_page(db, title=form.title.data or "", slug=form.slug.data or "", reserved=reserved,
                               clock=clock())
        except PageError as exc:
            db.rollback()
            (form.title if exc.field == "title" else form.slug).errors = [str(exc)]
        else:
            db.commit()
            flash(f"“{page.title}” was created as a draft at /{page.slug}. Insert blocks, then Save.",
                  "success")
            return redirect_to(url_for("pages.edit", page_id=page.id))
    return render_page("pages/new.html", "pages/_new_form.html", status=422, form=form,
                       book_now=book_now_page(db), action_form=ActionForm(), **_common(db))


@bp.post("/book-now")
def create_book_now() -> Response:
    """One click: a draft Book Now page with the Cliniko booking widget."""
    if not ActionForm().validate():
        abort(400)
    db = get_session()
    bookings = bookings_url(db)
    page = create_book_now_page(db, bookings=bookings, reserved=reserved_slugs_for(), clock=clock())
    db.commit()
    if bookings is not None:
        flash(f"Your Book Now page is ready as a draft at /{page.slug}, with the booking widget for "
              f"{bookings.host}. Check it with Preview, tick Published and Save.", "success")
    else:
        flash(f"Your Book Now page was created as a draft at /{page.slug}. Select the booking widget, choose "
              "Edit and paste Cliniko's embed code, then tick Published and Save.", "success")
    return redirect_to(url_for("pages.edit", page_id=page.id))


def _editor(page: Page, *, form: PageForm | None = None, blocks: list[Block] | None = None,
            problems: list[Any] | None = None, status: int = 200) -> Response:
    db = get_session()
    return render_page(
        "pages/edit.html",
        "pages/_page_form.html",
        status=status,
        web_page=page,
        form=form or PageForm(obj=page, reserved=reserved_slugs_for()),
        blocks=stored_blocks(page.blocks) if blocks is None else blocks,
        problems=problems or [],
        **_common(db),
    )


@bp.get("/<int:page_id>/edit")
def edit(page_id: int) -> Response:
    """The editor: blocks to insert, drag, select and edit; page settings and Save in the sidebar."""
    return _editor(get_page_or_404(get_session(), page_id))


@bp.post("/<int:page_id>/edit")
def save(page_id: int) -> Response:
    """Validate every block again and store the page; problems come back on the form (422)."""
    db = get_session()
    page = get_page_or_404(db, page_id)
    reserved = reserved_slugs_for()
    form = PageForm(reserved=reserved)
    items = request.form.getlist("block")
    blocks, problems = read_blocks(items, allowed_accounts=allowed_accounts(db))
    if form.validate() and not problems:
        try:
            save_page(db, page, title=form.title.data or "", slug=form.slug.data or "",
                      published=bool(form.published.data), blocks=blocks, revision=form.revision.data,
                      reserved=reserved, clock=clock())
        except PageError as exc:
            db.rollback()
            if exc.field in ("title", "slug"):
                form[exc.field].errors = [str(exc)]
            else:
                form.form_errors.append(str(exc))
        else:
            db.commit()
            page_cache().invalidate()
            if page.published:
                flash(f"Saved. The page is live at /{page.slug}.", "success")
            else:
                flash("Saved as a draft: only staff can see it, with Preview.", "success")
            return redirect_to(url_for("pages.edit", page_id=page.id))
    draft, _ = read_blocks(items, allowed_accounts=None, complete=False)
    return _editor(page, form=form, blocks=draft, problems=problems, status=422)


@bp.post("/<int:page_id>/delete")
def delete(page_id: int) -> Response:
    """Remove a page; its address stops working at once."""
    if not ActionForm().validate():
        abort(400)
    db = get_session()
    page = get_page_or_404(db, page_id)
    title = page.title
    delete_page(db, page)
    db.commit()
    page_cache().invalidate()
    flash(f"“{title}” was deleted.", "success")
    return redirect_to(url_for("pages.index"))


@bp.get("/<int:page_id>/preview")
def preview(page_id: int) -> Response:
    """The saved page exactly as visitors would see it, drafts included (staff only, never cached)."""
    db = get_session()
    page = get_page_or_404(db, page_id)
    return send_page(render_public_page(db, page, preview=True), preview=True)


@bp.get("/blocks/new")
def new_block_view() -> Response:
    """Insert: a new block for the canvas, with its settings opened in the sidebar."""
    kind = request.args.get("kind", "")
    if kind not in BLOCK_LABELS:
        abort(400)
    db = get_session()
    block = new_block(kind)
    return render_fragment("pages/_inserted.html", block=block,
                           form=settings_form_for(block, **_block_options(db)), **_common(db))


@bp.post("/blocks/settings")
def block_settings() -> Response:
    """Edit: the sidebar settings of the block the editor sent."""
    db = get_session()
    try:
        block = block_from_dict(request.form.get("block", ""), complete=False)
    except BookingsValidationError as exc:
        return with_alert(render_fragment("pages/_settings_empty.html", status=400), str(exc))
    return render_fragment("pages/_settings.html", form=settings_form_for(block, **_block_options(db)),
                           **_common(db))


@bp.post("/blocks/apply")
def apply_block() -> Response:
    """Apply: validate the sidebar's settings and update the block's preview in the canvas."""
    form_class = SETTINGS_FORMS.get(request.form.get("kind", ""))
    if form_class is None:
        abort(400)
    db = get_session()
    options = _block_options(db)
    form = form_class(**options)
    if not form.validate():
        return render_fragment("pages/_settings.html", form=form, status=422, **_common(db))
    block = form.block()
    return render_fragment("pages/_applied.html", block=block, form=settings_form_for(block, **options),
                           applied=True, applied_note=form.applied_note, **_common(db))
