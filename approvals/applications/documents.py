"""The written notices as PDF, with reportlab.

Why reportlab: it is the long-kept PDF library of the Python world, it writes Chinese with Adobe's
Asian CID fonts (``STSong-Light``) that every PDF reader carries, so there is no font file to ship
or license and the text stays text (searchable, copyable, readable by screen readers); and it
draws QR codes itself (``reportlab.graphics.barcode.qr``). ``invariant`` output: the same
document gives the same bytes, so a stored SHA-256 can be re-derived from the records.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table
from reportlab.platypus.flowables import Flowable

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

_BUREAU = ParagraphStyle("bureau", fontName=FONT, fontSize=20, leading=28, alignment=TA_CENTER, textColor="#a61b1b")
_TITLE = ParagraphStyle("title", fontName=FONT, fontSize=18, leading=26, alignment=TA_CENTER, spaceBefore=6)
_NUMBER = ParagraphStyle("number", fontName=FONT, fontSize=11, leading=16, alignment=TA_CENTER)
_BODY = ParagraphStyle("body", fontName=FONT, fontSize=12, leading=22, firstLineIndent=24, spaceAfter=6)
_PLAIN = ParagraphStyle("plain", fontName=FONT, fontSize=12, leading=22)
_ITEM = ParagraphStyle("item", fontName=FONT, fontSize=12, leading=20, leftIndent=24)
_SIGN = ParagraphStyle("sign", fontName=FONT, fontSize=12, leading=22, alignment=TA_RIGHT)
_SMALL = ParagraphStyle("small", fontName=FONT, fontSize=9, leading=13, textColor="#555555")


@dataclass(frozen=True)
class NoticeDocument:
    bureau: str
    title: str
    number: str
    addressee: str
    paragraphs: Sequence[str]
    issued_on: datetime.date
    verify_url: str
    verify_text: str
    items: Sequence[str] = field(default_factory=tuple)
    date_text: str = ""


def _qr(url: str, size: float = 30 * mm) -> Flowable:
    widget = QrCodeWidget(url, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    return drawing


def notice_pdf(document: NoticeDocument) -> bytes:
    """The PDF of ``document`` (A4, one page for the usual notice)."""
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=22 * mm,
        bottomMargin=20 * mm,
        title=document.title,
        author=document.bureau,
        subject=document.number,
        invariant=1,
    )
    story: list[Flowable] = [
        Paragraph(escape(document.bureau), _BUREAU),
        Paragraph(escape(document.title), _TITLE),
        Paragraph(escape(document.number), _NUMBER),
        Spacer(1, 8 * mm),
        Paragraph(escape(document.addressee), _PLAIN),
    ]
    story += [Paragraph(escape(text), _BODY) for text in document.paragraphs]
    story += [Paragraph(escape(f"{number}. {item}"), _ITEM) for number, item in enumerate(document.items, 1)]
    story += [
        Spacer(1, 12 * mm),
        Paragraph(escape(document.bureau), _SIGN),
        Paragraph(escape(document.date_text or document.issued_on.isoformat()), _SIGN),
    ]
    if document.verify_url:  # an internal notice (督办, 整改) has no public verification page
        story += [
            Spacer(1, 10 * mm),
            Table(
                [[_qr(document.verify_url), Paragraph(escape(document.verify_text), _SMALL)]],
                colWidths=[34 * mm, None],
                style=[("VALIGN", (0, 0), (-1, -1), "MIDDLE")],
            ),
        ]
    pdf.build(story)
    return buffer.getvalue()
