"""The designed e-mail's HTML: MJML compiled once per design, then filled in per message.

MJML (via `mrml`, its Rust port) turns the clinic's layout into the table-based, responsive HTML
that e-mail programs (Outlook included) show, and `css-inline` moves its CSS into style attributes
for the programs that drop <style>. Both run once per design (`compiled_layout` is cached by the
design and base address), not once per message: the layout is compiled with a prototype of each
block kind holding placeholder slots, cut apart, and each message only joins prototypes with its
escaped values substituted (one regex pass, so a value that looks like a slot stays text).

Every value that goes in is escaped here: staff text, merge values, the clinic name, addresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import css_inline
import mrml
from markupsafe import Markup, escape

from oncord.messaging.blocks import Block, ButtonBlock, ImageBlock, TextBlock
from oncord.messaging.design import EmailDesign

_SLOT = re.compile(r"oncord-slot-([a-z]+)")
_PROTOTYPE = re.compile(r"<!--oncord:([a-z]+)-->(.*?)<!--/oncord:\1-->", re.DOTALL)
_BLOCKS_SLOT = "oncord-slot-blocks"
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")
_TEXT_COLOUR, _MUTED, _PAGE, _CARD = "#1f2933", "#52606d", "#f6f7f9", "#ffffff"
_LOGO_WIDTH = "200px"


def _attr(value: str) -> str:
    return str(escape(value))


def _mjml(design: EmailDesign, logo_url: str | None) -> str:
    brand = _attr(design.brand_colour)
    name = _attr(design.clinic_name or "")
    if logo_url:
        header = (f'<mj-image src="{_attr(logo_url)}" alt="{name}" width="{_LOGO_WIDTH}" '
                  'align="left" padding="24px 25px 8px" />')
    else:
        header = (f'<mj-text font-size="20px" font-weight="bold" color="{_attr(_TEXT_COLOUR)}" '
                  f'padding="24px 25px 8px">{name}</mj-text>')
    card = f'background-color="{_CARD}" padding="0"'
    return f"""<mjml lang="en">
<mj-head>
  <mj-title>oncord-slot-subject</mj-title>
  <mj-attributes>
    <mj-all font-family="Arial, Helvetica, sans-serif" />
    <mj-text font-size="16px" line-height="1.5" color="{_TEXT_COLOUR}" padding="8px 25px" />
  </mj-attributes>
</mj-head>
<mj-body background-color="{_PAGE}" width="600px">
  <mj-section padding="16px 0 0"><mj-column>
    <mj-divider border-color="{brand}" border-width="4px" padding="0" />
  </mj-column></mj-section>
  <mj-section {card}><mj-column>{header}</mj-column></mj-section>
  <mj-raw>{_BLOCKS_SLOT}</mj-raw>
  <mj-raw><!--oncord:text--></mj-raw>
  <mj-section {card}><mj-column><mj-text>oncord-slot-html</mj-text></mj-column></mj-section>
  <mj-raw><!--/oncord:text--></mj-raw>
  <mj-raw><!--oncord:button--></mj-raw>
  <mj-section {card}><mj-column>
    <mj-button href="oncord-slot-href" background-color="{brand}" color="{_attr(design.button_text_colour)}"
      font-size="16px" font-weight="bold" inner-padding="12px 28px" border-radius="6px" align="left"
      padding="12px 25px">oncord-slot-label</mj-button>
  </mj-column></mj-section>
  <mj-raw><!--/oncord:button--></mj-raw>
  <mj-raw><!--oncord:image--></mj-raw>
  <mj-section {card}><mj-column>
    <mj-image src="oncord-slot-src" alt="oncord-slot-alt" padding="12px 25px" />
  </mj-column></mj-section>
  <mj-raw><!--/oncord:image--></mj-raw>
  <mj-raw><!--oncord:divider--></mj-raw>
  <mj-section {card}><mj-column>
    <mj-divider border-color="#d9dee3" border-width="1px" padding="12px 25px" />
  </mj-column></mj-section>
  <mj-raw><!--/oncord:divider--></mj-raw>
  <mj-section {card} padding-bottom="16px"><mj-column><mj-spacer height="8px" /></mj-column></mj-section>
  <mj-section padding="8px 0 24px"><mj-column>
    <mj-text font-size="12px" color="{_MUTED}">oncord-slot-footer</mj-text>
  </mj-column></mj-section>
</mj-body>
</mjml>"""


@dataclass(frozen=True)
class CompiledLayout:
    """The HTML around the blocks (with subject and footer slots) and one prototype per block kind."""

    head: str
    tail: str
    prototypes: dict[str, str]


@lru_cache(maxsize=32)
def compiled_layout(design: EmailDesign, base_url: str) -> CompiledLayout:
    """Compile and inline the design's layout (cached: once per design and base address)."""
    logo_url = base_url.rstrip("/") + design.logo_path if design.logo_path else None
    html = css_inline.CSSInliner(keep_style_tags=True).inline(mrml.to_html(_mjml(design, logo_url)).content)
    prototypes = {kind: body for kind, body in _PROTOTYPE.findall(html)}
    html = _PROTOTYPE.sub("", html)
    head, _, tail = html.partition(_BLOCKS_SLOT)
    return CompiledLayout(head=head, tail=tail, prototypes=prototypes)


def _fill(template: str, values: dict[str, str]) -> str:
    # One pass: a substituted value is never searched for slots again.
    return _SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _linked(text: str, style: str) -> str:
    return _URL.sub(lambda m: f'<a href="{m.group(0)}" style="{style}">{m.group(0)}</a>', str(escape(text)))


def _paragraphs(text: str, link_colour: str, swaps: Iterable[tuple[str, Markup]] = ()) -> str:
    style = f"color:{link_colour};text-decoration:underline"
    # A swap's text is matched as it reads once escaped and linked, where it stands alone on its line.
    replacements = [(_linked(plain, style), str(html))
                    for plain, html in swaps if plain and "\n" not in plain]
    paragraphs = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        linked = _linked(chunk.strip("\n"), style)
        for plain, html in replacements:
            linked = linked.replace(plain, html)
        paragraphs.append('<p style="margin:0 0 12px">' + linked.replace("\n", "<br>\n") + "</p>")
    return "\n".join(paragraphs)


def _block_html(layout: CompiledLayout, block: Block, design: EmailDesign,
                swaps: Iterable[tuple[str, Markup]]) -> str:
    if isinstance(block, TextBlock):
        return _fill(layout.prototypes["text"], {"html": _paragraphs(block.text, design.link_colour, swaps)})
    if isinstance(block, ButtonBlock):
        return _fill(layout.prototypes["button"], {"href": _attr(block.url), "label": _attr(block.label)})
    if isinstance(block, ImageBlock):
        return _fill(layout.prototypes["image"], {"src": _attr(block.url), "alt": _attr(block.alt)})
    return layout.prototypes["divider"]


def designed_html(
    design: EmailDesign,
    base_url: str,
    *,
    subject: str,
    blocks: list[Block],
    footer: list[str],
    unsubscribe_url: str | None,
    sender_name: str,
    swaps: Iterable[tuple[str, Markup]] = (),
) -> str:
    """The e-mail's HTML part: the clinic's compiled layout with this message's blocks and footer."""
    layout = compiled_layout(design, base_url)
    lines = [f'<p style="margin:0 0 6px">{escape(line)}</p>' for line in footer if line]
    if unsubscribe_url:
        lines.append(f'<p style="margin:0"><a href="{_attr(unsubscribe_url)}" style="color:{_MUTED}">'
                     f"Unsubscribe</a> from e-mails from {escape(sender_name)}.</p>")
    values = {"subject": _attr(subject), "footer": "\n".join(lines)}
    body = "".join(_block_html(layout, block, design, swaps) for block in blocks)
    return _fill(layout.head, values) + body + _fill(layout.tail, values)
