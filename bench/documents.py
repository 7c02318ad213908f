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
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        from bench.report import write

        write(ROOT / "docs" / "benchmarks.md", section, f"documents-{engine.split(' ')[0]}")
    drop(database)


if __name__ == "__main__":
    main()
