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


# How Cliniko's code arrives after passing through website builders and staff's hands. Each
# reads as the same widget: CANONICAL (plus allow="payment" for the last one).
CANONICAL = (f'<iframe class="cliniko-bookings" id="{ELEMENT_ID}" src="{SRC}" title="Online bookings" '
             'height="1000"></iframe>')
CANONICAL_WITH_PAYMENT = CANONICAL.replace('height="1000">', 'height="1000" allow="payment">')
OTHER_RESIZE_SCRIPT = f"""<script>
window.addEventListener("message", function (evt) {{
  var ifrm = document.getElementById("{ELEMENT_ID}");
  if (evt.data && String(evt.data).indexOf("cliniko-bookings-resize") === 0) {{
    ifrm.style.height = evt.data.split(":")[1] + "px";
  }}
}}, false);
</script>"""
VARIANTS = {
    "documented": DOCUMENTED_CODE,
    "wrapped-in-a-div": f'<div class="cliniko-booking" style="max-width:900px">\n{DOCUMENTED_CODE}\n</div>',
    "double-quotes": DOCUMENTED_CODE.replace("'", '"'),
    "reordered-attributes": (f'<iframe height="1000" width="100%" style="pointer-events: auto;" '
                             f'scrolling="auto" frameborder="0" src="{SRC}" id="{ELEMENT_ID}"></iframe>\n'
                             + SCRIPT),
    "a-different-resize-script": IFRAME + "\n" + OTHER_RESIZE_SCRIPT,
    "builder-markup": (f'<!-- wp:html -->\n<figure class="wp-block-embed"><div>{IFRAME}</div></figure>\n'
                       f'<p>&nbsp;</p>\n{SCRIPT}\n<!-- /wp:html -->'),
    "shown-as-text": IFRAME.replace("<", "&lt;").replace(">", "&gt;"),
}
PAYMENT_VARIANT = IFRAME.replace("<iframe ", '<iframe allow="payment" ') + SCRIPT
