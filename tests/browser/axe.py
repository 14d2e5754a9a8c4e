"""Run the vendored axe-core in a Playwright page and report WCAG 2.x A/AA violations."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def violations(page: Page) -> list[str]:
    """One line per violated rule: its id, impact and up to three offending elements."""
    # evaluate() runs outside the page's CSP, which would refuse an injected <script>.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']}).then("
        "r => r.violations.map(v => [v.id, v.impact, v.nodes.slice(0, 3).map(n => n.target.join(' '))]))",
        WCAG_AA,
    )
    return [f"{rule} ({impact}): {', '.join(targets)}" for rule, impact, targets in found]
