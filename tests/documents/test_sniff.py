"""A document's kind comes from its bytes; a zip is measured before it is opened."""

import io
import os
import zipfile

import pytest

from chat.documents.refusals import DocumentRefused
from chat.documents.sniff import DocumentKind, ZipLimits, document_kind


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _refusal(data: bytes, name: str = "x", **limits: int) -> str:
    with pytest.raises(DocumentRefused) as caught:
        document_kind(data, name, ZipLimits(**limits))
    return caught.value.code


@pytest.mark.parametrize(
    ("part", "kind"),
    [
        ("word/document.xml", DocumentKind.DOCX),
        ("ppt/presentation.xml", DocumentKind.PPTX),
        ("xl/workbook.xml", DocumentKind.XLSX),
    ],
)
def test_an_office_file_is_known_by_its_main_part_whatever_its_name_or_member_order(part, kind):
    data = _zip({"docProps/app.xml": b"<x/>", part: b"<x/>", "[Content_Types].xml": b"<x/>"})

    assert document_kind(data, "renamed.pdf") == kind


def test_a_pdf_is_known_by_its_signature():
    assert document_kind(b"%PDF-1.7\n1 0 obj\n", "notes.txt") == DocumentKind.PDF


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (b"a,b\n1,2\n", "table.csv", DocumentKind.CSV),
        (b"# Title\n\ntext", "README.md", DocumentKind.MARKDOWN),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "page.txt", DocumentKind.HTML),
        (b"def f():\n    return 1\n", "code.py", DocumentKind.TEXT),
        ("Grüße aus Köln, café".encode("latin-1"), "old.txt", DocumentKind.TEXT),
        ("中文的文本".encode(), "notes", DocumentKind.TEXT),
    ],
)
def test_text_is_read_as_text_and_its_name_says_which_kind(data, name, kind):
    assert document_kind(data, name) == kind


def test_a_plain_zip_is_not_a_document():
    assert _refusal(_zip({"a.txt": b"hello"}), "a.docx") == "unsupported"


def test_binary_bytes_with_a_text_name_are_refused():
    assert _refusal(os.urandom(4096), "notes.txt") == "unsupported"
    assert _refusal(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image.md") == "unsupported"


def test_an_old_or_encrypted_office_file_is_refused_with_what_to_do():
    with pytest.raises(DocumentRefused) as caught:
        document_kind(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "report.docx")

    assert caught.value.code == "old_office"
    assert ".docx" in caught.value.message


def test_an_empty_file_is_refused():
    assert _refusal(b"") == "empty"


def test_a_zip_bomb_is_refused_before_anything_unpacks_it():
    bomb = _zip({"word/document.xml": bytes(20 * 1024 * 1024)})  # 20 MiB of zeros, ~20 KiB

    assert len(bomb) < 100 * 1024
    assert _refusal(bomb, "cv.docx") == "too_large_unpacked"


def test_a_zip_that_unpacks_to_more_than_the_limit_is_refused():
    data = _zip({"xl/workbook.xml": os.urandom(64 * 1024)})

    assert _refusal(data, unpacked_bytes=32 * 1024) == "too_large_unpacked"
    assert document_kind(data, "x", ZipLimits(unpacked_bytes=128 * 1024)) == DocumentKind.XLSX


def test_a_zip_of_too_many_members_is_refused():
    data = _zip({"ppt/presentation.xml": b"<x/>", **{f"m{i}": b"" for i in range(20)}})

    assert _refusal(data, members=10) == "too_large_unpacked"


def test_a_truncated_zip_is_damaged():
    data = _zip({"word/document.xml": os.urandom(4096)})

    assert _refusal(data[: len(data) // 2]) == "malformed"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"\xef\xbb\xbf" + ("é" * 40_000).encode(), "excel.csv"),  # a character cut at 64 KiB
        (("a" + "😀" * 20_000).encode("utf-16"), "wide.txt"),  # a surrogate pair cut there
    ],
    ids=["utf-8-bom", "utf-16"],
)
def test_a_long_text_with_a_byte_order_mark_is_text_wherever_the_sample_ends(data, name):
    assert document_kind(data, name) in (DocumentKind.CSV, DocumentKind.TEXT)
