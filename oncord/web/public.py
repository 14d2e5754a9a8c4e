"""Public website pages at /<slug>: anonymous, cached, framing only the clinic's Cliniko bookings host."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, make_response, render_template, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from oncord.bookings.blocks import EmbedBlock, stored_blocks
from oncord.bookings.cache import PublicPageCache, RenderedPage, cache_client
from oncord.bookings.csp import public_page_csp, public_page_permissions
from oncord.bookings.pages import is_slug_shaped, published_page, reserved_slugs
from oncord.bookings.settings import bookings_url, clinic_name
from oncord.clinic_profile import clinic_profile
from oncord.context import settings
from oncord.db import get_session
from oncord.models import Page

bp = Blueprint("public", __name__)

# Browsers and shared caches may keep a public page this long; our own cache is dropped on save.
PUBLIC_MAX_AGE_SECONDS = 60


def reserved_slugs_for(app: Flask | None = None) -> frozenset[str]:
    """Slugs a page may not take: the first segment of every other route, plus reserved words."""
    app = app or current_app
    reserved = app.extensions.get("oncord.reserved_slugs")
    if reserved is None:
        prefixes = set()
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith(f"{bp.name}."):
                continue
            first = rule.rule.lstrip("/").split("/", 1)[0]
            if first and "<" not in first:
                prefixes.add(first)
        reserved = app.extensions["oncord.reserved_slugs"] = reserved_slugs(prefixes)
    return reserved


def page_cache() -> PublicPageCache:
    """The cache of rendered public pages (views drop it after saving a page or setting)."""
    client = current_app.extensions.get("oncord.public_pages_redis")
    if client is None:
        client = current_app.extensions["oncord.public_pages_redis"] = cache_client(settings().redis_url)
    return PublicPageCache(client)


def render_public_page(session: Session, page: Page, *, preview: bool = False) -> RenderedPage:
    """The page as visitors see it, with the policies that admit only its bookings hosts."""
    blocks = stored_blocks(page.blocks)
    embeds = [block.embed for block in blocks if isinstance(block, EmbedBlock) and block.embed]
    html = render_template(
        "public/page.html",
        page=page,
        blocks=blocks,
        bookings=bookings_url(session),
        clinic=clinic_profile(session),
        has_embed=bool(embeds),
        preview=preview,
    )
    return RenderedPage(
        html=html,
        content_security_policy=public_page_csp(embed.origin for embed in embeds),
        permissions_policy=public_page_permissions(embed.origin for embed in embeds if embed.allow_payment),
    )


def send_page(rendered: RenderedPage, *, preview: bool = False) -> Response:
    """The response for a rendered page: its own CSP, an ETag, and caching that fits the viewer."""
    response = make_response(rendered.html)
    response.headers["Content-Security-Policy"] = rendered.content_security_policy
    response.headers["Permissions-Policy"] = rendered.permissions_policy
    response.set_etag(rendered.etag)
    if preview:
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex"
    elif current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
        # A staff browser may get its session cookie refreshed: never let a shared cache keep that.
        response.headers["Cache-Control"] = "private, no-cache"
    else:
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE_SECONDS}"
    return response.make_conditional(request)


def not_found() -> Response:
    """A visitor-facing 404 (no staff links)."""
    page = render_template("public/not_found.html", clinic_name=clinic_name(get_session()))
    return make_response(page, 404)


@bp.get("/<slug>")
def page(slug: str) -> Response:
    """A published page; drafts and unknown addresses are 404."""
    if not is_slug_shaped(slug):
        return not_found()
    cache = page_cache()
    found = cache.lookup(slug)
    rendered = found.page
    if rendered is None:
        db = get_session()
        stored = published_page(db, slug)
        if stored is None:
            return not_found()
        rendered = render_public_page(db, stored)
        cache.store(slug, rendered, found.generation)
    return send_page(rendered)
