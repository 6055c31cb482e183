"""QR codes as inline SVG (no image files, no network)."""

from __future__ import annotations

import io

import qrcode
from qrcode.image.svg import SvgPathImage


def qr_svg(data: str) -> str:
    """An SVG element (text) encoding ``data``, scalable to any size by CSS."""
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image(image_factory=SvgPathImage).save(out)
    svg = out.getvalue().decode()
    return svg[svg.index("<svg") :]
