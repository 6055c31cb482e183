"""The ticket printed on 58 mm and 80 mm thermal paper: a real page size, inside the printable width."""

from __future__ import annotations

import io

import pytest

from tests.browser.conftest import shot

pytestmark = pytest.mark.browser
pypdf = pytest.importorskip("pypdf", reason="pypdf (dev extras) reads the printed PDF")

MM = 72 / 25.4  # PDF points per millimetre
PX_MM = 25.4 / 96  # millimetres per CSS pixel
# paper width: the width a thermal head prints on it (58 mm printers ~48 mm, 80 mm ~72 mm)
PRINTABLE = {"58": 48, "80": 72}


def text_runs(page) -> list[tuple[float, str]]:
    """(x in points from the page's left edge, text) of every text run drawn on a PDF page."""
    runs: list[tuple[float, str]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            runs.append((tm[4] * cm[0] + tm[5] * cm[2] + cm[4], text.strip()))

    page.extract_text(visitor_text=visit)
    return runs


@pytest.mark.parametrize("paper", ["58", "80"])
def test_the_slip_prints_on_its_paper_inside_the_printable_width(server, new_page, paper):
    page = new_page(1080, 1920)
    page.add_init_script("window.print = () => { window.printedAt = Date.now(); };")  # the PDF prints here
    page.goto(f"{server.url}/kiosk?lang=en&paper={paper}")
    page.click(".service[data-service='A']")
    number = page.locator("#ticket-number").inner_text()
    page.wait_for_function("() => window.printedAt")  # the kiosk asked to print the slip

    pdf = pypdf.PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))

    assert len(pdf.pages) == 1, "one slip, one page: the roll is cut once"
    width_mm = float(pdf.pages[0].mediabox.width) / MM
    assert abs(width_mm - int(paper)) < 0.5, f"printed on {width_mm:.1f} mm, not {paper} mm paper"
    runs = text_runs(pdf.pages[0])
    assert number in "".join(text for _x, text in runs), runs
    margin = (int(paper) - PRINTABLE[paper]) / 2
    assert min(x for x, _text in runs) / MM >= margin - 0.5, "text starts left of the printable width"
    # The slip as laid out for print: it and everything in it within the printable width.
    page.emulate_media(media="print")
    shot(page, f"ticket-print-{paper}mm")
    extent = page.evaluate(
        """() => {
          const slip = document.querySelector('.slip');
          const box = slip.getBoundingClientRect();
          let right = box.right;
          for (const el of slip.querySelectorAll('*')) {
            right = Math.max(right, el.getBoundingClientRect().right);
          }
          const scroll = slip.scrollWidth - slip.clientWidth;
          return { width: box.width, overflow: right - box.right, scroll: scroll };
        }"""
    )
    assert extent["width"] * PX_MM <= PRINTABLE[paper] + 0.3, extent
    assert extent["width"] * PX_MM >= PRINTABLE[paper] - 2, extent  # the printable width is used
    assert extent["overflow"] <= 0.5 and extent["scroll"] == 0, extent
