"""Why a document is refused, said in one place: the sniffer, the worker's codes and the
server's limits all name a refusal by its code, and the person is shown its text.

The document worker imports this (through sniff.py) and no Django, so the texts are kept
in English here, only marked for the catalogue; the view that answers translates the
refusal's text (`gettext(exc.message)`) in the language of its request.
"""


def gettext_noop(text: str) -> str:
    """Marks a text for `makemessages` (which looks for this name), as Django's does."""
    return text


class DocumentRefused(ValueError):
    """A file chatsite does not read, with the reason a person is shown."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


TEXTS = {
    "empty": gettext_noop("The file is empty."),
    "old_office": gettext_noop(
        "This is an old Office file (.doc, .xls, .ppt) or an encrypted one: "
        "save it as .docx, .xlsx or .pptx, without a password."
    ),
    "too_large": gettext_noop("The file is larger than documents may be."),
    "library_full": gettext_noop(
        "Your library is full: delete documents you no longer need, then bring this one again."
    ),
    "busy": gettext_noop("Many documents are being read just now: try again in a moment."),
    "too_many_pages": gettext_noop("The document has more pages than documents may have."),
    "timeout": gettext_noop(
        "Reading the document took too long: it may be damaged or very complex."
    ),
    "encrypted": gettext_noop("The document is protected by a password: save a copy without it."),
    "malformed": gettext_noop("The file is damaged: it cannot be read."),
    "too_large_unpacked": gettext_noop("The file unpacks to more than documents may hold."),
    "memory": gettext_noop("Reading the document needs more memory than documents may use."),
    "unsupported": gettext_noop("The file's text cannot be read."),
    "no_text": gettext_noop("The document has no text to read."),
    "no_text_pdf": gettext_noop(
        "The PDF has no text to read: it may be a scan, which would need text recognition first."
    ),
}


def refused(code: str, message: str | None = None) -> DocumentRefused:
    """The refusal of this code, with its text (or a more precise one)."""
    return DocumentRefused(code, message or TEXTS[code])
