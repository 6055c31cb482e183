"""Cells of the CSV and XLSX exports, made safe to open in a spreadsheet (formula injection).

A visitor's rating comment, a clerk's typed record or an admin's counter name may begin with
``=``, ``+``, ``-`` or ``@`` (or a tab or line break before one): Excel, WPS and LibreOffice
then run it as a formula, which can read other cells and send them off (``=HYPERLINK(...)``).
Every export writes its cells through this module: such text gets a leading apostrophe in CSV
(spreadsheets show it as plain text) and is stored as text with Excel's own quote prefix in
XLSX. Numbers stay numbers, and a telephone number such as ``+86 138…`` stays whole and
readable as text instead of being read as a sum.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def runs_as_formula(value: Any) -> bool:
    """Whether a spreadsheet could read this value as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def spreadsheet_cell(value: Any) -> Any:
    """A value as an export cell: None empty, formula-like text behind an apostrophe."""
    if value is None:
        return ""
    return "'" + value if runs_as_formula(value) else value


def write_csv(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A header and rows as CSV, every cell through ``spreadsheet_cell``."""
    writer = csv.writer(out)
    writer.writerow([spreadsheet_cell(name) for name in header])
    writer.writerows([spreadsheet_cell(value) for value in row] for row in rows)


def append_xlsx_row(sheet: Any, row: Sequence[Any]) -> None:
    """Append a row to an openpyxl sheet: formula-like text is kept as text (quote prefix)."""
    sheet.append([spreadsheet_cell(value) for value in row])
    for cell, value in zip(sheet[sheet.max_row], row, strict=False):
        if runs_as_formula(value):
            cell.value = value
            cell.data_type = "s"
            cell.quotePrefix = True
