"""Real documents of every kind, made by the libraries that write them."""

import io

from docx import Document
from openpyxl import Workbook
from pptx import Presentation
from pptx.util import Inches
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas


def pdf(pages: list[str], *, password: str | None = None) -> bytes:
    """A PDF with one line of text per page ("" draws a box and no text: a scan)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, encrypt=password)
    for text in pages:
        if text:
            canvas.drawString(72, 720, text)
        else:
            canvas.rect(72, 500, 200, 200, fill=1)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.cell(r, c).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pptx(slides: list[tuple[str, str]]) -> bytes:
    """Slides of (text on the slide, speaker notes)."""
    presentation = Presentation()
    for text, notes in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[6])
        box = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(5), Inches(1))
        box.text_frame.text = text
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
