"""Documents: what reading, indexing and searching a 500-page PDF costs.

    .venv/bin/python -m bench.documents                 # SQLite, in a temporary file
    DATABASE_URL=postgres://… .venv/bin/python -m bench.documents   # a new PostgreSQL DB

Makes a PDF of N pages of prose (reportlab, a fixed seed), reads its text as the upload
does (chat/documents/extraction.py: a process of its own), saves it with its passages
(the database indexes them: FTS5 on SQLite, a GIN index on PostgreSQL), then times
questions against it. Writes a table into docs/benchmarks.md (documents-results).
"""

import argparse
import asyncio
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.admin_scale import ROOT, configure, drop

WORDS = [
    "contract",
    "party",
    "payment",
    "clause",
    "notice",
    "term",
    "renewal",
    "liability",
    "warranty",
    "invoice",
    "delivery",
    "schedule",
    "penalty",
    "dispute",
    "court",
    "law",
    "agreement",
    "service",
    "level",
    "support",
    "data",
    "privacy",
    "security",
    "breach",
    "audit",
    "report",
    "quarter",
    "revenue",
    "cost",
    "budget",
    "forecast",
    "risk",
    "market",
    "customer",
    "supplier",
    "product",
    "release",
    "plan",
    "team",
    "office",
    "travel",
    "policy",
    "employee",
    "leave",
    "salary",
    "bonus",
]


def prose_pdf(pages: int, words_per_page: int, rng: random.Random) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for page in range(pages):
        text = canvas.beginText(40, 800)
        words = [rng.choice(WORDS) for _ in range(words_per_page)]
        words[0] = f"page{page + 1}"
        for start in range(0, len(words), 12):
            text.textLine(" ".join(words[start : start + 12]))
        canvas.drawText(text)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--words", type=int, default=300, help="words per page")
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    workdir = tempfile.mkdtemp(prefix="chatsite-documents-bench-")
    database = os.environ.get("DATABASE_URL") or str(Path(workdir) / "db.sqlite3")
    engine = configure(database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    os.environ.setdefault("CHAT_DOCUMENT_SECONDS", "600")
    import django

    django.setup()
    from django.core.management import call_command

    from chat.documents.extraction import document_extract
    from chat.models import User
    from chat.selectors import passages_search
    from chat.services.documents.library import document_save

    call_command("migrate", verbosity=0)
    rng = random.Random(14)
    data = prose_pdf(args.pages, args.words, rng)
    user = User.objects.create_user("bench-reader", password="!")

    began = time.monotonic()
    extracted = asyncio.run(document_extract(data, "report.pdf"))
    extract_s = time.monotonic() - began
    began = time.monotonic()
    document = document_save(user=user, name="report.pdf", data=data, extracted=extracted)
    save_s = time.monotonic() - began
    passages = document.passages.count()

    timings = []
    for _ in range(args.questions):
        question = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8)))
        began = time.monotonic()
        found = passages_search(user_id=user.pk, document_ids=[document.pk], query=question)
        timings.append((time.monotonic() - began) * 1000)
        assert found, question
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    embed_s, meaning = _by_meaning(user, document, args.questions, rng)
    lines = [
        f"**{engine.split(' ')[0]}**, a {args.pages}-page PDF of {args.words} words a page "
        f"({len(data) / 1e6:.1f} MB, {extracted.chars:,} characters, {passages:,} passages). "
        f"Command: `make bench-documents`"
        + (" with `DATABASE_URL` set" if engine.startswith("PostgreSQL") else "")
        + ".",
        "",
        "| step | total | per page |",
        "| --- | ---: | ---: |",
        f"| text read (its own process, pypdf) | {extract_s:.2f} s | "
        f"{extract_s / args.pages * 1000:.1f} ms |",
        f"| saved and indexed (passages, full-text index) | {save_s:.2f} s | "
        f"{save_s / args.pages * 1000:.1f} ms |",
        "",
        f"Retrieval, {args.questions} questions of 3 to 8 words: median "
        f"{statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms "
        "per question (the 8 best passages).",
        "",
        f"Embeddings: the passages' vectors asked for and stored in {embed_s:.2f} s, "
        f"{len(range(0, passages, 64))} requests to the offline demo provider (its hashed "
        "vectors: the time is chatsite's, a real provider adds its own). Then every passage "
        f"given a random {DIMENSIONS}-dimension vector (text-embedding-3-small's size) and "
        f"{args.questions} questions ranked by meaning (every vector read and compared: "
        f"`selectors.passages_by_meaning`): median {statistics.median(meaning):.1f} ms, "
        f"max {max(meaning):.1f} ms per question.",
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        from bench.report import write

        write(ROOT / "docs" / "benchmarks.md", section, f"documents-{engine.split(' ')[0]}")
    drop(database)


# text-embedding-3-small's vectors.
DIMENSIONS = 1536


def _by_meaning(user, document, questions: int, rng: random.Random) -> tuple[float, list[float]]:
    """Seconds to give the document its vectors (through the demo provider), and each
    question's milliseconds to rank its passages by meaning at a real model's size."""
    import numpy as np
    from asgiref.sync import sync_to_async
    from django.db import connections

    from chat.documents.vectors import vector_pack
    from chat.models import Passage, SiteSettings
    from chat.selectors import passages_by_meaning
    from chat.services.documents.embeddings import document_embed
    from chat.services.usage.limits import site_settings_forget

    SiteSettings.objects.update_or_create(pk=1, defaults={"embeddings_model": "bench-embedding"})
    site_settings_forget()
    began = time.monotonic()
    assert asyncio.run(document_embed(user=user, document_id=document.pk))
    embed_s = time.monotonic() - began
    # The embedding's database work ran in asgiref's thread: its connection closed there,
    # or PostgreSQL refuses to drop the bench's database.
    asyncio.run(sync_to_async(connections.close_all)())
    numbers = np.random.default_rng(rng.randint(0, 2**32))
    rows = [
        Passage(pk=pk, embedding=vector_pack(numbers.standard_normal(DIMENSIONS).tolist()))
        for pk in document.passages.values_list("pk", flat=True)
    ]
    Passage.objects.bulk_update(rows, ["embedding"], batch_size=200)
    timings = []
    for _ in range(questions):
        vector = vector_pack(numbers.standard_normal(DIMENSIONS).tolist())
        assert vector is not None
        began = time.monotonic()
        found = passages_by_meaning(
            user_id=user.pk, document_ids=[document.pk], vector=vector, model="bench-embedding"
        )
        timings.append((time.monotonic() - began) * 1000)
        assert len(found) == 8
    return embed_s, timings


if __name__ == "__main__":
    main()
