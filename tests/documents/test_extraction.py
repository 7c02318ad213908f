"""A document's text is read in a process of its own, page by page, within its limits;
every file it cannot read gets its reason, and the server goes on meanwhile."""

import asyncio
import io
import time
import zipfile

import pytest

from chat.documents.extraction import Unit, document_extract
from chat.documents.refusals import DocumentRefused
from chat.documents.sniff import DocumentKind
from tests.documents import files


async def _refusal(data: bytes, name: str = "file") -> str:
    with pytest.raises(DocumentRefused) as caught:
        await document_extract(data, name)
    assert caught.value.message
    return caught.value.code


async def test_a_pdf_s_text_comes_page_by_page_with_its_page_numbers():
    extracted = await document_extract(files.pdf(["Alpha page", "Beta page"]), "paper.pdf")

    assert extracted.kind == DocumentKind.PDF
    assert [(u.unit, u.n, u.label) for u in extracted.units] == [
        ("page", 1, "1"),
        ("page", 2, "2"),
    ]
    assert ["Alpha" in extracted.units[0].text, "Beta" in extracted.units[1].text] == [True, True]
    assert extracted.pages == 2


async def test_a_word_document_s_paragraphs_and_tables_are_read():
    data = files.docx(["Contract terms", "Clause two"], table=[["Party", "Acme"]])

    extracted = await document_extract(data, "contract.docx")

    assert extracted.kind == DocumentKind.DOCX
    text = extracted.units[0].text
    assert "Contract terms" in text
    assert "Clause two" in text
    assert "Party\tAcme" in text


async def test_each_slide_is_a_unit_with_its_notes():
    data = files.pptx([("Quarterly results", "Say it slowly"), ("Outlook", "")])

    extracted = await document_extract(data, "deck.pptx")

    assert [(u.unit, u.n) for u in extracted.units] == [("slide", 1), ("slide", 2)]
    assert "Quarterly results" in extracted.units[0].text
    assert "Say it slowly" in extracted.units[0].text
    assert "Outlook" in extracted.units[1].text


async def test_each_sheet_is_a_unit_named_by_its_title():
    data = files.xlsx({"Budget": [["Item", "Cost"], ["Rent", 1200]], "Notes": [["ok"]]})

    extracted = await document_extract(data, "budget.xlsx")

    assert [(u.unit, u.label) for u in extracted.units] == [("sheet", "Budget"), ("sheet", "Notes")]
    assert extracted.units[0].text == "Item\tCost\nRent\t1200"


@pytest.mark.parametrize(
    ("data", "name", "kind", "text"),
    [
        (b"name,age\nAda,36\n", "people.csv", DocumentKind.CSV, "name,age\nAda,36\n"),
        (b"# Plan\n\n- one\n", "plan.md", DocumentKind.MARKDOWN, "# Plan\n\n- one\n"),
        (b"def f():\n    return 1\n", "code.py", DocumentKind.TEXT, "def f():\n    return 1\n"),
        ("Straße".encode("utf-16"), "german.txt", DocumentKind.TEXT, "Straße"),
    ],
)
async def test_text_documents_are_read_as_they_are(data, name, kind, text):
    extracted = await document_extract(data, name)

    assert extracted.kind == kind
    assert extracted.units == [Unit("document", 1, "", text)]


async def test_an_html_page_gives_its_visible_text_without_scripts_or_styles():
    page = (
        b"<!doctype html><html><head><style>p{color:red}</style>"
        b"<script>alert('x')</script></head><body><h1>Title</h1><p>Body text</p></body></html>"
    )

    extracted = await document_extract(page, "page.html")

    assert extracted.units[0].text == "Title\nBody text"


async def test_a_scanned_pdf_says_it_has_no_text_instead_of_sending_nothing():
    assert await _refusal(files.pdf(["", ""]), "scan.pdf") == "no_text_pdf"


async def test_a_pdf_longer_than_the_page_limit_is_refused(settings):
    settings.CHAT_DOCUMENT_MAX_PAGES = 2_000
    started = time.monotonic()
    data = files.pdf(["x"] * 5_000)

    assert await _refusal(data, "huge.pdf") == "too_many_pages"
    print(f"5,000 pages made and refused in {time.monotonic() - started:.1f} s")


async def test_a_damaged_pdf_is_refused_as_damaged():
    data = files.pdf(["Alpha"])

    assert await _refusal(data[: len(data) // 3] + b"garbage", "broken.pdf") == "malformed"


async def test_a_password_protected_pdf_says_so():
    assert await _refusal(files.pdf(["Secret"], password="pw"), "locked.pdf") == "encrypted"


async def test_a_zip_bomb_is_refused_before_any_process_opens_it():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", bytes(50 * 1024 * 1024))

    assert await _refusal(buffer.getvalue(), "bomb.docx") == "too_large_unpacked"


async def test_a_file_over_the_size_limit_is_refused_unread(settings):
    settings.CHAT_DOCUMENT_MAX_BYTES = 1000

    assert await _refusal(b"a" * 1001, "big.txt") == "too_large"


async def test_a_document_that_needs_more_memory_than_allowed_is_refused(settings):
    settings.CHAT_DOCUMENT_MEMORY_BYTES = 64 * 1024 * 1024
    rows = [[f"cell {r} {c} " * 20 for c in range(30)] for r in range(3_000)]

    assert await _refusal(files.xlsx({"Big": rows}), "big.xlsx") == "memory"


async def test_reading_that_takes_too_long_is_stopped_and_refused(settings):
    settings.CHAT_DOCUMENT_SECONDS = 0.05

    assert await _refusal(files.pdf(["Alpha"] * 50), "slow.pdf") == "timeout"


async def test_the_event_loop_stays_responsive_while_a_long_pdf_is_read():
    data = files.pdf([f"Page {n} of a long report" for n in range(500)])
    gaps: list[float] = []

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    extracted = await document_extract(data, "report.pdf")
    took = time.monotonic() - started
    ticker.cancel()

    assert extracted.pages == 500
    assert "Page 499" in extracted.units[-1].text
    assert len(gaps) > 10
    # The loop ticked all along: had the read run on it, one gap would be the whole read.
    assert max(gaps) < took / 2
    print(f"500 pages in {took:.2f} s ({took / 500 * 1000:.1f} ms a page)")


def test_a_unit_holds_only_text_a_database_stores():
    from chat.documents.worker import _unit

    unit = _unit("page", 1, "x" * 300, "a\ud800b\x00c")

    assert unit["text"] == "a\ufffdbc"
    assert len(unit["label"]) == 100


async def test_an_upload_beyond_the_queue_is_refused_at_once(monkeypatch):
    from chat.documents import extraction

    monkeypatch.setattr(extraction, "QUEUE", 1)
    first = asyncio.create_task(document_extract(files.pdf(["Alpha"] * 100), "long.pdf"))
    for _ in range(500):  # until the first is in the queue (sniffed off the loop first)
        if extraction._waiting.get(asyncio.get_running_loop()):
            break
        await asyncio.sleep(0.01)

    assert await _refusal(b"short text", "b.txt") == "busy"
    assert (await first).pages == 100
