"""A document's text, read off the event loop and out of the server's process.

The file's kind comes from its bytes (sniff.py); its text from `chat.documents.worker`, a
process started for this one document, limited in memory and CPU time, killed when it
takes longer than CHAT_DOCUMENT_SECONDS. One document at a time per server process: on a
small machine a second parser would only take the core the answers stream on.
"""

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass

from django.conf import settings

from chat.documents.refusals import TEXTS, refused
from chat.documents.sniff import DocumentKind, ZipLimits, document_kind

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unit:
    """A part of a document that a citation can name: a page, a slide, a sheet, or the
    whole document when it has no such parts (Word, text)."""

    unit: str  # "page", "slide", "sheet" or "document"
    n: int  # its number, from 1
    label: str  # what the document calls it: a printed page number, a sheet's name
    text: str


@dataclass(frozen=True)
class Extracted:
    kind: DocumentKind
    units: list[Unit]

    @property
    def pages(self) -> int:
        """Pages, slides or sheets: what the document's chip says it has."""
        return len(self.units)

    @property
    def chars(self) -> int:
        return sum(len(u.text) for u in self.units)


async def document_extract(data: bytes, name: str) -> Extracted:
    """The document's kind and text; raises DocumentRefused, with the reason, for a file
    chatsite does not read, one over a limit, a damaged one, and one with no text."""
    if len(data) > settings.CHAT_DOCUMENT_MAX_BYTES:
        raise refused("too_large")
    limits = ZipLimits(unpacked_bytes=settings.CHAT_DOCUMENT_MAX_UNPACKED_BYTES)
    # Off the event loop: sniffing decodes text and reads a zip's directory.
    kind = await asyncio.to_thread(document_kind, data, name, limits)
    if _waiting.get(asyncio.get_running_loop(), 0) >= QUEUE:
        raise refused("busy")
    async with _one_at_a_time():
        output = await _worker_run(kind, data)
    try:
        result = json.loads(output)
    except ValueError:
        raise refused("malformed") from None
    if "error" in result:
        raise refused(result["error"] if result["error"] in TEXTS else "malformed")
    units = [Unit(u["unit"], u["n"], u["label"], u["text"]) for u in result["units"]]
    if not any(u.text.strip() for u in units):
        raise refused("no_text_pdf" if kind == DocumentKind.PDF else "no_text")
    return Extracted(kind, units)


async def _worker_run(kind: DocumentKind, data: bytes) -> bytes:
    cpu_seconds = max(1, int(settings.CHAT_DOCUMENT_SECONDS))
    # The parser gets none of the server's environment (its secret key, the provider's
    # key, the database's password): only what Python needs to start.
    environment = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "chat.documents.worker",
        kind.value,
        str(settings.CHAT_DOCUMENT_MAX_PAGES),
        str(settings.CHAT_DOCUMENT_MEMORY_BYTES),
        str(cpu_seconds),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=settings.BASE_DIR,
        env=environment,
    )
    try:
        output, errors = await asyncio.wait_for(
            process.communicate(data), settings.CHAT_DOCUMENT_SECONDS
        )
    except TimeoutError:
        raise refused("timeout") from None
    finally:
        if process.returncode is None:  # timed out, or the upload was cancelled
            process.kill()
            await process.wait()
    if process.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise refused("timeout")
    if process.returncode != 0:
        # Not the file's fault: the worker itself failed (an import, a crash). Logged,
        # since the person is only told the file could not be read.
        logger.error(
            "document worker exited %s: %s", process.returncode, errors[-2000:].decode("replace")
        )
    return output


# Documents waiting for their turn or being read, per event loop, beyond which an upload
# is refused at once: each waiting one holds its file in memory.
QUEUE = 4
_waiting: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, int]" = weakref.WeakKeyDictionary()
# One semaphore per event loop (tests run several loops in one process).
_semaphores: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = (
    weakref.WeakKeyDictionary()
)


@contextlib.asynccontextmanager
async def _one_at_a_time() -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    semaphore = _semaphores.get(loop)
    if semaphore is None:
        semaphore = _semaphores[loop] = asyncio.Semaphore(1)
    _waiting[loop] = _waiting.get(loop, 0) + 1
    try:
        async with semaphore:
            yield
    finally:
        _waiting[loop] -= 1
