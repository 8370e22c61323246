"""A minimal PDF 1.4 writer: text pages in the standard Helvetica font (WinAnsi, so Spanish accents
print), no dependency. Enough for the evidence package's summary; not a layout engine."""

from __future__ import annotations

import textwrap

PAGE_W, PAGE_H = 595, 842  # A4 in points
MARGIN, LEADING, SIZE, WRAP = 56, 14, 10, 95


def _escape(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _lines(paragraphs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(style, text) → wrapped lines; style is 'h' (heading, bold) or 'p'."""
    out: list[tuple[str, str]] = []
    for style, text in paragraphs:
        if style == "h":
            out.append(("h", text))
        else:
            for piece in text.split("\n"):
                out.extend(("p", w) for w in (textwrap.wrap(piece, WRAP) or [""]))
        out.append(("p", ""))
    return out


def render_pdf(paragraphs: list[tuple[str, str]], *, title: str = "") -> bytes:
    lines = _lines(paragraphs)
    per_page = (PAGE_H - 2 * MARGIN) // LEADING
    pages = [lines[i : i + per_page] for i in range(0, len(lines), per_page)] or [[]]
    objects: list[bytes] = []  # object n is objects[n-1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled below
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    kids = []
    for page_lines in pages:
        ops = [b"BT", f"{MARGIN} {PAGE_H - MARGIN} Td {LEADING} TL".encode()]
        for style, text in page_lines:
            ops.append(f"/{'F2' if style == 'h' else 'F1'} {SIZE + (2 if style == 'h' else 0)} Tf".encode())
            ops.append(b"(" + _escape(text) + b") Tj T*")
        ops.append(b"ET")
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                f"<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
                f"/Resources << /Font << /F1 {font} 0 R /F2 {bold} 0 R >> >> /Contents {content} 0 R >>".encode()
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_obj} 0 R >>".encode()
    objects[pages_obj - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
    )
    info = add(b"<< /Title (" + _escape(title) + b") /Producer (Amparo) >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
