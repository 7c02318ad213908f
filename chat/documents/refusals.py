"""Why a document is refused, said in one place: the sniffer, the worker's codes and the
server's limits all name a refusal by its code, and the person is shown its text."""


class DocumentRefused(ValueError):
    """A file chatsite does not read, with the reason a person is shown."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


TEXTS = {
    "empty": "The file is empty.",
    "old_office": (
        "This is an old Office file (.doc, .xls, .ppt) or an encrypted one: "
        "save it as .docx, .xlsx or .pptx, without a password."
    ),
    "too_large": "The file is larger than documents may be.",
    "library_full": (
        "Your library is full: delete documents you no longer need, then bring this one again."
    ),
    "busy": "Many documents are being read just now: try again in a moment.",
    "too_many_pages": "The document has more pages than documents may have.",
    "timeout": "Reading the document took too long: it may be damaged or very complex.",
    "encrypted": "The document is protected by a password: save a copy without it.",
    "malformed": "The file is damaged: it cannot be read.",
    "too_large_unpacked": "The file unpacks to more than documents may hold.",
    "memory": "Reading the document needs more memory than documents may use.",
    "unsupported": "The file's text cannot be read.",
    "no_text": "The document has no text to read.",
    "no_text_pdf": (
        "The PDF has no text to read: it may be a scan, which would need text recognition first."
    ),
}


def refused(code: str, message: str | None = None) -> DocumentRefused:
    """The refusal of this code, with its text (or a more precise one)."""
    return DocumentRefused(code, message or TEXTS[code])
