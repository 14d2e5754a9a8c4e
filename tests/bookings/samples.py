"""Cliniko's "Code to embed in your website", as §9 of cliniko-api.md documents it."""

from __future__ import annotations

ELEMENT_ID = "cliniko-62506279"
HOST = "sunnyside.au1.cliniko.com"
SRC = f"https://{HOST}/bookings?embedded=true"

IFRAME = (
    f"<iframe id='{ELEMENT_ID}' src='{SRC}' frameborder='0' scrolling='auto' width='100%' "
    "height='1000' style='pointer-events: auto;'></iframe>"
)
SCRIPT = f"""<script type='text/javascript'>
  window.addEventListener('message', function handleIFrameMessage (e) {{
    var clinikoBookings = document.getElementById('{ELEMENT_ID}');
    if (typeof e.data !== 'string') return;
    if (e.data.search('cliniko-bookings-resize') > -1) {{
      var height = Number(e.data.split(':')[1]);
      clinikoBookings.style.height = height + 'px';
    }}
    e.data.search('cliniko-bookings-page') > -1 && clinikoBookings.scrollIntoView();
  }});
</script>"""

DOCUMENTED_CODE = IFRAME + "\n" + SCRIPT


def code_with(iframe: str = IFRAME, script: str = SCRIPT) -> str:
    """The documented code with one part swapped."""
    return iframe + "\n" + script


def make_page(session, clock, *, slug: str = "book-now", title: str = "Book now", published: bool = True,
              blocks: list | None = None):
    """A page stored straight in the database (blocks as validated objects)."""
    from oncord.bookings.blocks import EmbedBlock
    from oncord.bookings.embed import parse_embed_code
    from oncord.models import Page

    if blocks is None:
        blocks = [EmbedBlock(id="b0000000e", embed=parse_embed_code(DOCUMENTED_CODE))]
    now = clock.now()
    page = Page(title=title, slug=slug, published=published, blocks=[b.to_dict() for b in blocks],
                revision=1, created_at=now, updated_at=now)
    session.add(page)
    session.flush()
    return page
