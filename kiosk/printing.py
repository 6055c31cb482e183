"""Printing a ticket on an ESC/POS thermal printer (QMS_PRINTER=escpos://...).

Unset, the kiosk prints through the browser (print CSS for 58/80 mm paper).  Forms:
``escpos://network/HOST:PORT``, ``escpos://usb/VENDOR:PRODUCT`` (hex ids),
``escpos://file/dev/usb/lp0`` (a device or file path).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


class PrinterError(Exception):
    """The ticket could not be printed; issuing goes on regardless."""


@dataclass(frozen=True)
class Slip:
    """What a printed ticket carries."""

    hall: str
    number: str
    service: str
    ahead_line: str
    issued_line: str
    url: str
    footer: str


def open_printer(target: str) -> object:
    """Connect to the printer a QMS_PRINTER URL names."""
    from escpos import printer

    parts = urlsplit(target)
    if parts.scheme != "escpos":
        raise PrinterError(f"QMS_PRINTER must start with escpos://, not {parts.scheme}://")
    kind, rest = parts.netloc, parts.path
    try:
        if kind == "network":
            host, _, port = rest.strip("/").partition(":")
            # Probe first: python-escpos leaks its socket when the connection is refused.
            with socket.create_connection((host, int(port or 9100)), timeout=3):
                pass
            return printer.Network(host, int(port or 9100), timeout=5)
        if kind == "usb":
            vendor, _, product = rest.strip("/").partition(":")
            return printer.Usb(int(vendor, 16), int(product, 16))
        if kind == "file":
            return printer.File(rest or "/dev/usb/lp0")
    except Exception as error:  # the driver raises many kinds; all mean "no printer"
        raise PrinterError(f"Cannot open the printer: {error}") from error
    raise PrinterError(f"Unknown printer kind {kind!r} (network, usb or file)")


def print_slip(target: str, slip: Slip) -> None:
    """Print a ticket: hall, big number, service, queue line, QR to the phone page."""
    device = open_printer(target)
    try:
        device.set(align="center", normal_textsize=True)  # type: ignore[attr-defined]
        _text(device, slip.hall + "\n\n")
        device.set(align="center", double_width=True, double_height=True, bold=True)  # type: ignore[attr-defined]
        device.text(slip.number + "\n")  # type: ignore[attr-defined]
        device.set(align="center", normal_textsize=True, bold=False)  # type: ignore[attr-defined]
        for line in (slip.service, slip.ahead_line, slip.issued_line):
            _text(device, line + "\n")
        device.qr(slip.url, size=6, center=True)  # type: ignore[attr-defined]
        _text(device, slip.footer + "\n")
        device.cut()  # type: ignore[attr-defined]
    except PrinterError:
        raise
    except Exception as error:
        raise PrinterError(f"Printing failed: {error}") from error
    finally:
        try:
            device.close()  # type: ignore[attr-defined]
        except Exception:
            pass


def _text(device: object, line: str) -> None:
    try:
        device.text(line)  # type: ignore[attr-defined]
    except Exception:
        # A printer without a CJK code page: keep the ASCII part rather than fail the slip.
        device.text(line.encode("ascii", "ignore").decode() or "\n")  # type: ignore[attr-defined]
