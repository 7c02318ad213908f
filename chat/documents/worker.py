"""The text of one document, extracted in a process of its own:
python -m chat.documents.worker KIND MAX_PAGES MEMORY_BYTES CPU_SECONDS < file

Parsers of PDF and Office files can take without bound what a crafted file asks for
(memory, time), so they never run in the server: this process limits itself before it
reads a byte, and the server kills it when it runs too long (chat/documents/extraction.py).
It prints one JSON object: `{"units": [{"unit", "n", "label", "text"}]}`, a unit being a
page, a slide, a sheet or the whole document, or `{"error": code}`. It imports no Django.
"""

import io
import json
import re
import resource
import sys
from collections.abc import Callable, Iterator
from typing import Any

from chat.documents.sniff import DocumentKind, text_decode

Unit = dict[str, Any]
LABEL_CHARS = 100  # Passage.label's length
_SURROGATE = re.compile("[\ud800-\udfff]")


class Refusal(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def main() -> None:
    kind, max_pages, memory, cpu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a parser killed leaves no dump
    data = sys.stdin.buffer.read()
    try:
        units = list(_EXTRACTORS[DocumentKind(kind)](data, max_pages))
        result: dict[str, Any] = {"units": units}
    except Refusal as refusal:
        result = {"error": refusal.code}
    except MemoryError:
        result = {"error": "memory"}
    except Exception:
        result = {"error": "malformed"}
    sys.stdout.write(json.dumps(result))


def _pdf(data: bytes, max_pages: int) -> Iterator[Unit]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise Refusal("encrypted")
    if len(reader.pages) > max_pages:
        raise Refusal("too_many_pages")
    labels = reader.page_labels
    for index, page in enumerate(reader.pages):
        label = labels[index] if index < len(labels) else str(index + 1)
        yield _unit("page", index + 1, label, page.extract_text() or "")


def _docx(data: bytes, max_pages: int) -> Iterator[Unit]:
    from docx import Document

    document = Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines += ["\t".join(cell.text for cell in row.cells) for row in table.rows]
    yield _unit("document", 1, "", "\n".join(lines))


def _pptx(data: bytes, max_pages: int) -> Iterator[Unit]:
    from pptx import Presentation

    presentation = Presentation(io.BytesIO(data))
    if len(presentation.slides) > max_pages:
        raise Refusal("too_many_pages")
    for number, slide in enumerate(presentation.slides, start=1):
        lines: list[str] = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                lines.append(shape.text_frame.text)
            if shape.has_table:
                lines += ["\t".join(c.text for c in row.cells) for row in shape.table.rows]
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            lines.append(slide.notes_slide.notes_text_frame.text)
        yield _unit("slide", number, str(number), "\n".join(line for line in lines if line))


def _xlsx(data: bytes, max_pages: int) -> Iterator[Unit]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    for number, sheet in enumerate(workbook.worksheets, start=1):
        rows = (
            "\t".join("" if value is None else str(value) for value in row)
            for row in sheet.iter_rows(values_only=True)
        )
        yield _unit("sheet", number, sheet.title, "\n".join(r for r in rows if r.strip()))


def _html(data: bytes, max_pages: int) -> Iterator[Unit]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_text(data), "html.parser")
    for hidden in soup(["script", "style", "template", "noscript"]):
        hidden.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    yield _unit("document", 1, "", "\n".join(line for line in lines if line))


def _plain(data: bytes, max_pages: int) -> Iterator[Unit]:
    yield _unit("document", 1, "", _text(data))


def _text(data: bytes) -> str:
    text = text_decode(data)
    if text is None:
        raise Refusal("unsupported")
    return text


def _unit(unit: str, n: int, label: str, text: str) -> Unit:
    return {"unit": unit, "n": n, "label": _clean(label)[:LABEL_CHARS], "text": _clean(text)}


def _clean(text: str) -> str:
    """Text a database stores: pypdf can give lone surrogates (a broken ToUnicode map),
    which UTF-8 cannot encode; they become U+FFFD. NULs go."""
    return _SURROGATE.sub("\ufffd", text).replace("\x00", "")


_EXTRACTORS: dict[DocumentKind, Callable[[bytes, int], Iterator[Unit]]] = {
    DocumentKind.PDF: _pdf,
    DocumentKind.DOCX: _docx,
    DocumentKind.PPTX: _pptx,
    DocumentKind.XLSX: _xlsx,
    DocumentKind.HTML: _html,
    DocumentKind.CSV: _plain,
    DocumentKind.MARKDOWN: _plain,
    DocumentKind.TEXT: _plain,
}


if __name__ == "__main__":
    main()
