"""Website pages: addresses (slugs) that cannot shadow the app, creating, saving, the Book Now page."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncord.bookings.blocks import (
    BLOCK_LABELS,
    MAX_BLOCKS,
    Block,
    EmbedBlock,
    TextBlock,
    block_from_dict,
    new_block_id,
)
from oncord.bookings.embed import BookingEmbed
from oncord.bookings.urls import Account, BookingsUrl, BookingsValidationError
from oncord.clock import Clock
from oncord.models import Page

MAX_SLUG, MAX_TITLE = 80, 200
BOOK_NOW_TITLE, BOOK_NOW_SLUG = "Book now", "book-now"

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)

# First path segments kept for the app even before a screen uses them, so a page never takes an
# address a later feature (or a well-known file) needs. The app's own routes are added at runtime.
ALWAYS_RESERVED = frozenset(
    {
        "account", "admin", "api", "app", "assets", "auth", "automations", "campaigns", "contacts",
        "dashboard", "favicon", "healthz", "login", "logout", "media", "messages", "pages", "preview",
        "public", "robots", "sandbox", "settings", "sitemap", "static", "u", "unsubscribe", "uploads",
        "users", "webhooks", "well-known",
    }
)


class PageError(BookingsValidationError):
    """A page could not be created or saved; the message says why, `field` says where."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StaleEdit(PageError):
    """Someone else saved the page after this editor loaded it."""


@dataclass(frozen=True)
class BlockProblem:
    """Why one block of a page was refused."""

    position: int
    kind: str
    message: str

    def __str__(self) -> str:
        label = BLOCK_LABELS.get(self.kind, "Block")
        return f"Block {self.position} ({label}): {self.message}"


def read_blocks(
    items: Iterable[str], *, allowed_accounts: frozenset[Account] | None, complete: bool = True
) -> tuple[list[Block], list[BlockProblem]]:
    """The editor's blocks (JSON, in page order), each validated again; and what was refused."""
    blocks: list[Block] = []
    problems: list[BlockProblem] = []
    for position, item in enumerate(items, start=1):
        try:
            blocks.append(block_from_dict(item, allowed_accounts=allowed_accounts, complete=complete))
        except BookingsValidationError as exc:
            problems.append(BlockProblem(position, _kind_of(item), str(exc)))
    return blocks, problems


def _kind_of(item: str) -> str:
    match = re.search(r'"type"\s*:\s*"([a-z]+)"', item or "")
    return match[1] if match else ""


def reserved_slugs(route_prefixes: Iterable[str]) -> frozenset[str]:
    """Slugs pages may not use: the app's route prefixes and the always-reserved words."""
    return ALWAYS_RESERVED | {prefix.lower() for prefix in route_prefixes if prefix}


def slugify(text: str) -> str:
    """A page address from a title: lower-case ASCII letters, digits and single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_SLUG].rstrip("-")


def is_slug_shaped(slug: str) -> bool:
    """Whether a path segment could be a page address at all."""
    return len(slug) <= MAX_SLUG and bool(_SLUG.fullmatch(slug))


def check_slug(slug: str, reserved: frozenset[str]) -> str:
    """A valid, unreserved slug, or PageError saying what to change."""
    slug = (slug or "").strip().strip("/").lower()
    if not slug:
        raise PageError("Enter the page's address, e.g. book-now.", field="slug")
    if len(slug) > MAX_SLUG:
        raise PageError(f"Keep the address to {MAX_SLUG} characters.", field="slug")
    if not _SLUG.fullmatch(slug):
        raise PageError("Use lower-case letters, digits and single hyphens only, e.g. book-now.",
                        field="slug")
    if slug in reserved:
        raise PageError(f"/{slug} is used by Oncord itself. Choose another address, e.g. {slug}-info.",
                        field="slug")
    return slug


def slug_in_use(session: Session, slug: str, *, except_page: Page | None = None) -> bool:
    """Whether another page has this address."""
    query = select(Page.id).where(Page.slug == slug)
    if except_page is not None:
        query = query.where(Page.id != except_page.id)
    return session.scalars(query.limit(1)).first() is not None


def list_pages(session: Session) -> list[Page]:
    """Every page, most recently changed first."""
    return list(session.scalars(select(Page).order_by(Page.updated_at.desc(), Page.id.desc())))


def published_page(session: Session, slug: str) -> Page | None:
    """The published page at this address, if any."""
    return session.scalars(select(Page).where(Page.slug == slug, Page.published.is_(True))).first()


def create_page(session: Session, *, title: str, slug: str, reserved: frozenset[str], clock: Clock,
                blocks: list[Block] | None = None) -> Page:
    """Add a draft page (the caller commits)."""
    title = _check_title(title)
    slug = check_slug(slug or slugify(title), reserved)
    if slug_in_use(session, slug):
        raise PageError(f"Another page already uses /{slug}. Choose another address.", field="slug")
    now = clock.now()
    page = Page(title=title, slug=slug, published=False, blocks=[b.to_dict() for b in blocks or []],
                revision=1, created_at=now, updated_at=now)
    session.add(page)
    session.flush()
    return page


def save_page(
    session: Session,
    page: Page,
    *,
    title: str,
    slug: str,
    published: bool,
    blocks: list[Block],
    revision: int | None,
    reserved: frozenset[str],
    clock: Clock,
) -> Page:
    """Store the editor's page: title, address, published flag and validated blocks (caller commits)."""
    if revision is not None and revision != page.revision:
        raise StaleEdit("Someone else saved this page after you opened it. Reload the editor to see "
                        "their version, then make your change again.")
    title = _check_title(title)
    slug = check_slug(slug, reserved)
    if slug_in_use(session, slug, except_page=page):
        raise PageError(f"Another page already uses /{slug}. Choose another address.", field="slug")
    if len(blocks) > MAX_BLOCKS:
        raise PageError(f"A page can have up to {MAX_BLOCKS} blocks.")
    ids = [block.id for block in blocks]
    if len(set(ids)) != len(ids):
        raise PageError("Two blocks have the same id. Reload the editor and try again.")
    if published and not blocks:
        raise PageError("An empty page cannot be published. Insert at least one block first.")
    page.title, page.slug, page.published = title, slug, published
    page.blocks = [block.to_dict() for block in blocks]
    page.revision += 1
    page.updated_at = clock.now()
    return page


def delete_page(session: Session, page: Page) -> None:
    """Remove a page (the caller commits)."""
    session.delete(page)


def book_now_blocks(bookings: BookingsUrl | None) -> list[Block]:
    """The starter content of a Book Now page; the widget is filled in when the address is known."""
    embed = None
    if bookings is not None:
        # The widget shows the embedded layout of the same page (preselections kept, no #part).
        embed = BookingEmbed(url=BookingsUrl(**{**bookings.to_dict(), "fragment": None}))
    return [
        TextBlock(id=new_block_id(), text="Choose the service, practitioner and time that suit you. "
                                          "You will get a confirmation by e-mail."),
        EmbedBlock(id=new_block_id(), embed=embed),
    ]


def create_book_now_page(session: Session, *, bookings: BookingsUrl | None, reserved: frozenset[str],
                         clock: Clock) -> Page:
    """A draft "Book now" page with Cliniko's widget, at /book-now (or /book-now-2, ...)."""
    slug, number = BOOK_NOW_SLUG, 1
    while slug_in_use(session, slug) or slug in reserved:
        number += 1
        slug = f"{BOOK_NOW_SLUG}-{number}"
    return create_page(session, title=BOOK_NOW_TITLE, slug=slug, reserved=reserved, clock=clock,
                       blocks=book_now_blocks(bookings))


def book_now_page(session: Session) -> Page | None:
    """The first page with a booking widget, if any (the editor offers to create one otherwise)."""
    for page in session.scalars(select(Page).order_by(Page.id)):
        if any(isinstance(b, dict) and b.get("type") == "embed" for b in page.blocks or []):
            return page
    return None


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise PageError("Give the page a title.", field="title")
    if len(title) > MAX_TITLE:
        raise PageError(f"Keep the title to {MAX_TITLE} characters.", field="title")
    if any(ord(ch) < 32 for ch in title):
        raise PageError("The title contains invisible control characters. Type it again.", field="title")
    return title

