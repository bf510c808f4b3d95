"""The member card's machine-readable faces: a Code 128 barcode and a QR code, both as SVG.

A USB scanner at the counter reads the Code 128 and types the card number followed by Enter
into the check-in box; a phone camera or a 2D scanner reads the QR code, which holds the very
same card number, so both land in the same search. The barcode is drawn here (a small,
well-specified symbology, ISO/IEC 15417); the QR code comes from ``segno``.

Card numbers are letters, digits and dashes. An all-digit number of even length is packed two
digits per symbol (code set C), which keeps the printed barcode short enough for a wallet
card; anything else uses code set B.
"""

from __future__ import annotations

import io
from html import escape

import segno

#: Bar and space widths (in modules, bar first) of the Code 128 symbols 0–106; 106 is the
#: stop symbol including its final 2-module termination bar.
PATTERNS: tuple[str, ...] = (
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
)  # fmt: skip

START_B = 104
START_C = 105
STOP = 106
QUIET_ZONE = 10  # modules of white either side, as the symbology requires


def code128_values(data: str) -> list[int]:
    """The symbol values for ``data``: start, data, checksum, stop.

    Printable ASCII only (a card number never holds anything else); anything outside it is a
    ValueError rather than a barcode that scans as something the customer does not own.
    """
    if not data:
        raise ValueError("a barcode needs at least one character")
    if any(not 32 <= ord(char) <= 126 for char in data):
        raise ValueError("a Code 128 barcode here holds printable ASCII only")
    if data.isdigit() and len(data) % 2 == 0:
        values = [START_C] + [int(data[i : i + 2]) for i in range(0, len(data), 2)]
    else:
        values = [START_B] + [ord(char) - 32 for char in data]
    checksum = (values[0] + sum(pos * value for pos, value in enumerate(values[1:], 1))) % 103
    return [*values, checksum, STOP]


def code128_modules(data: str) -> list[tuple[bool, int]]:
    """The barcode as runs of (is_bar, width in modules), quiet zones excluded."""
    runs: list[tuple[bool, int]] = []
    for value in code128_values(data):
        for index, width in enumerate(PATTERNS[value]):
            runs.append((index % 2 == 0, int(width)))
    return runs


def code128_svg(data: str, *, module: int = 2, height: int = 80, label: bool = True) -> str:
    """An inline SVG of the barcode, crisp at any print size; the text is escaped."""
    runs = code128_modules(data)
    total = sum(width for _, width in runs) + 2 * QUIET_ZONE
    text_height = 22 if label else 0
    width_px = total * module
    bars: list[str] = []
    x = QUIET_ZONE
    for is_bar, width in runs:
        if is_bar:
            bars.append(f'<rect x="{x}" y="0" width="{width}" height="{height}"/>')
        x += width
    caption = ""
    if label:
        caption = (
            f'<text x="{width_px / 2}" y="{height + 18}" text-anchor="middle" '
            f'font-family="monospace" font-size="16" fill="#000">{escape(data)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="barcode" role="img" '
        f'width="{width_px}" height="{height + text_height}" '
        f'viewBox="0 0 {width_px} {height + text_height}" '
        f'aria-label="Barcode of card number {escape(data)}">'
        f"<title>Card number {escape(data)}</title>"
        f'<rect width="100%" height="100%" fill="#fff"/>'
        f'<g transform="scale({module} 1)" fill="#000">{"".join(bars)}</g>'
        f"{caption}</svg>"
    )


def qr_svg(data: str, *, scale: int = 6) -> str:
    """An inline SVG QR code (error correction M, enough for a creased wallet card)."""
    if not data:
        raise ValueError("a QR code needs at least one character")
    code = segno.make_qr(data, error="m")
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=scale,
        border=4,
        xmldecl=False,
        omitsize=True,
        svgns=True,
        title=f"Card number {data}",
        svgclass="qrcode",
        lineclass=None,
        dark="#000",
        light="#fff",
    )
    return out.getvalue().decode("utf-8")
