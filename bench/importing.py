"""Importing conversations: what a ChatGPT conversations.json costs to check and save.

    .venv/bin/python -m bench.importing                  # SQLite, in a temporary file
    DATABASE_URL=postgres://… .venv/bin/python -m bench.importing   # a new PostgreSQL DB

Makes a file of N conversations of M messages each (a question and an answer of about
80 words each, one in ten conversations with a second version of an answer), imports it
as the Your data page does, and writes the time and the peak memory into
docs/benchmarks.md (importing-results).
"""

import argparse
import io
import json
import os
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench.admin_scale import ROOT, configure, drop

WORDS = [
    "the",
    "a",
    "garden",
    "tulip",
    "rose",
    "soil",
    "water",
    "light",
    "spring",
    "plant",
    "grow",
    "seed",
    "root",
    "leaf",
]


def chatgpt_file(conversations: int, messages: int, rng: random.Random) -> bytes:
    def text() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(80))

    items = []
    for number in range(conversations):
        mapping = {"root": {"id": "root", "message": None, "parent": None, "children": []}}
        parent = "root"
        for n in range(messages):
            node = f"m{n}"
            role = "user" if n % 2 == 0 else "assistant"
            mapping[node] = {
                "id": node,
                "parent": parent,
                "children": [],
                "message": {
                    "author": {"role": role},
                    "content": {"content_type": "text", "parts": [text()]},
                },
            }
            mapping[parent]["children"].append(node)
            if role == "assistant" and number % 10 == 0 and n == 1:
                other = f"m{n}b"
                mapping[other] = {**mapping[node], "id": other, "children": []}
                mapping[parent]["children"].append(other)
            parent = node
        items.append(
            {"title": f"Conversation {number}", "mapping": mapping, "current_node": parent}
        )
    return json.dumps(items).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    workdir = tempfile.mkdtemp(prefix="chatsite-import-bench-")
    database = os.environ.get("DATABASE_URL") or str(Path(workdir) / "db.sqlite3")
    engine = configure(database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from chat.models import User
    from chat.services.conversations.importing import SAVE_BATCH, conversations_import

    call_command("migrate", verbosity=0)
    data = chatgpt_file(args.conversations, args.messages, random.Random(19))
    user = User.objects.create_user("bench-importer", password="!")
    began = time.monotonic()
    result = conversations_import(user=user, file=io.BytesIO(data))
    seconds = time.monotonic() - began
    # Memory on a second import (tracemalloc slows every allocation: not timed).
    again = User.objects.create_user("bench-importer-2", password="!")
    tracemalloc.start()
    conversations_import(user=again, file=io.BytesIO(data))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    lines = [
        f"**{engine.split(' ')[0]}**, a ChatGPT export of {result.conversations:,} conversations "
        f"and {result.messages:,} messages ({len(data) / 1e6:.1f} MB). Command: "
        "`make bench-import`"
        + (" with `DATABASE_URL` set" if engine.startswith("PostgreSQL") else "")
        + ".",
        "",
        f"Checked and saved in {seconds:.1f} s ({seconds / result.messages * 1000:.2f} ms a "
        f"message); the import's peak Python memory {peak / 1e6:.1f} MB (tracemalloc): the "
        f"file is read one conversation at a time and saved {SAVE_BATCH} at a time.",
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        from bench.report import write

        write(ROOT / "docs" / "benchmarks.md", section, f"importing-{engine.split(' ')[0]}")
    drop(database)


if __name__ == "__main__":
    main()
