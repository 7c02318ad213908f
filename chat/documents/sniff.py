"""What a document is, read from its bytes: the name an upload carries is never trusted.

PDF by its signature; DOCX, PPTX and XLSX are all zip files, told apart by the member
that each format must have; everything else must be text (valid UTF-8 or another
encoding charset-normalizer is sure of, without NUL bytes), and only then does the name
say which kind of text it is (CSV, HTML, Markdown or plain text and source code). A zip
is checked before anything opens it: how many members, how much it unpacks to, and how
much any member is compressed (a zip bomb unpacks thousands of times its size).
"""

import codecs
import enum
import io
import struct
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from charset_normalizer import from_bytes

from chat.documents.refusals import gettext_noop, refused


class DocumentKind(enum.StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    PPTX = "pptx"
    XLSX = "xlsx"
    CSV = "csv"
    HTML = "html"
    MARKDOWN = "markdown"
    TEXT = "text"


@dataclass(frozen=True)
class ZipLimits:
    members: int = 10_000
    unpacked_bytes: int = 200 * 1024 * 1024
    ratio: int = 100  # how many times its packed size one member may unpack to


# The member each Office format must have (ECMA-376): its main part.
_OFFICE_MAIN_PART = {
    "word/document.xml": DocumentKind.DOCX,
    "ppt/presentation.xml": DocumentKind.PPTX,
    "xl/workbook.xml": DocumentKind.XLSX,
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .xls, .ppt, and encrypted Office files
_TEXT_BY_SUFFIX = {
    ".csv": DocumentKind.CSV,
    ".tsv": DocumentKind.CSV,
    ".html": DocumentKind.HTML,
    ".htm": DocumentKind.HTML,
    ".md": DocumentKind.MARKDOWN,
    ".markdown": DocumentKind.MARKDOWN,
}
# What the page's file picker offers besides images: a hint to the browser only, since
# every file's kind is read from its bytes here.
PICKER_ACCEPT = [
    ".pdf",
    ".docx",
    ".pptx",
    ".xlsx",
    ".csv",
    ".tsv",
    ".html",
    ".htm",
    ".md",
    ".markdown",
    ".txt",
    ".json",
    ".xml",
    ".yaml",
    ".yml",
    ".toml",
    ".ini",
    ".log",
    ".py",
    ".js",
    ".ts",
    ".java",
    ".c",
    ".h",
    ".cpp",
    ".cs",
    ".go",
    ".rs",
    ".rb",
    ".php",
    ".sh",
    ".sql",
    "text/*",
]
_SNIFFED_BYTES = 64 * 1024  # enough of a text to judge its encoding
# A text that says its encoding (UTF-32's marks first: they begin like UTF-16's).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def document_kind(data: bytes, name: str, limits: ZipLimits | None = None) -> DocumentKind:
    """The kind of document `data` is; raises DocumentRefused for anything else."""
    if not data:
        raise refused("empty")
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return DocumentKind.PDF
    if data.startswith(_OLE):
        raise refused("old_office")
    if data.startswith(b"PK\x03\x04"):
        return _office_kind(data, limits or ZipLimits())
    if text_decode(data[:_SNIFFED_BYTES]) is None:
        raise refused(
            "unsupported",
            gettext_noop(
                "This kind of file is not read: documents may be PDF, Word, PowerPoint, "
                "Excel, CSV, HTML, Markdown, or text and source code."
            ),
        )
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return DocumentKind.HTML
    return _TEXT_BY_SUFFIX.get(PurePosixPath(name.lower()).suffix, DocumentKind.TEXT)


def text_decode(data: bytes) -> str | None:
    """The text `data` holds, or None when it is not text (a NUL, or no encoding fits).
    A byte-order mark says the encoding (UTF-16 and UTF-32 are full of NULs)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:  # not final: a sample may end inside a character
                return codecs.getincrementaldecoder(encoding)().decode(data, final=False)
            except UnicodeDecodeError:
                return None
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:  # a character cut by the end of the sample
            return data[: exc.start].decode("utf-8")
    best = from_bytes(data).best()
    if best is None or best.chaos > 0.2:
        return None
    return str(best)


def zip_check(data: bytes, limits: ZipLimits) -> zipfile.ZipFile:
    """The zip, opened only after its directory says it unpacks within the limits."""
    # zipfile reads the whole directory when it opens a zip: 250,000 empty members took
    # 1.4 s. The end-of-directory record says how many there are first.
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or len(data) < end + 22:
        raise refused("malformed")
    (entries,) = struct.unpack_from("<H", data, end + 10)
    if entries > limits.members:  # 0xFFFF: a ZIP64 directory, no Office file needs one
        raise refused("too_large_unpacked")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise refused("malformed") from None
    if len(members) > limits.members:
        raise refused("too_large_unpacked")
    # Python's zipfile stops at the declared size and fails the checksum on a mismatch, so
    # the sizes in the directory bound what reading the members can unpack.
    if sum(m.file_size for m in members) > limits.unpacked_bytes:
        raise refused("too_large_unpacked")
    for member in members:
        if member.file_size > limits.ratio * max(member.compress_size, 1024):
            raise refused("too_large_unpacked")
    return archive


def _office_kind(data: bytes, limits: ZipLimits) -> DocumentKind:
    names = set(zip_check(data, limits).namelist())
    for part, kind in _OFFICE_MAIN_PART.items():
        if part in names:
            return kind
    raise refused(
        "unsupported", gettext_noop("This zip file is not a Word, PowerPoint or Excel document.")
    )
