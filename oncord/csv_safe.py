"""CSV that spreadsheets open as data: a cell that looks like a formula is never run.

Excel, LibreOffice and Google Sheets treat a cell starting with `=`, `+`, `-` or `@` (and, after
their whitespace trimming, a tab or carriage return) as a formula, so a patient named
`=HYPERLINK(...)` in Cliniko could run code on the clinic's computer. Such cells get a leading
apostrophe (OWASP's advice), which the spreadsheet shows as text. Numbers stay numbers. Not
defusedcsv: it misses tab and CR and rewrites `|` inside values.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The value, with an apostrophe in front when a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeDictWriter(csv.DictWriter):
    """csv.DictWriter whose every text cell goes through neutralise()."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        """Write one row, formula-looking text neutralised."""
        return super().writerow({key: neutralise(value) for key, value in rowdict.items()})


def csv_chunks(records: Iterable[Mapping[str, Any]], columns: Iterable[str], *, rows_per_chunk: int = 1000
               ) -> Iterator[str]:
    """CSV text a few hundred rows at a time, for a streamed download (memory stays flat)."""
    buffer = io.StringIO()
    writer = SafeDictWriter(buffer, fieldnames=list(columns))
    writer.writeheader()
    for n, record in enumerate(records, start=1):
        writer.writerow(record)
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
