"""The admin on a big ledger: seed 1,000,000 usage rows, then time the dashboard and the
changelists an admin uses, as a signed-in superuser through Django's test client.

    .venv/bin/python -m bench.admin_scale                 # SQLite, in a temporary file
    DATABASE_URL=postgres://… .venv/bin/python -m bench.admin_scale   # a new PostgreSQL DB

Writes a table into docs/benchmarks.md (between the admin-results markers).
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- admin-results:start -->", "<!-- admin-results:end -->"
MODELS = [("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("acme", "acme-large"), ("", "local")]
STATUSES = ["complete"] * 16 + ["stopped", "error", "incomplete", "interrupted"]


def configure(database: str) -> str:
    os.environ.update(
        DEBUG="0",
        SECRET_KEY="bench-only-not-a-secret",
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        LOG_LEVEL="WARNING",
    )
    if database.startswith("postgres"):
        import psycopg

        name = f"chatsite_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(database, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = database.rsplit("/", 1)[0] + "/" + name
        return f"PostgreSQL ({name})"
    os.environ.pop("DATABASE_URL", None)
    os.environ["SQLITE_PATH"] = database
    return "SQLite"


def seed(rows: int, users: int, days: int) -> float:
    from django.db import connection

    from chat.models import User
    from chat.services.usage import usage_daily_rebuild

    began = time.monotonic()
    User.objects.bulk_create(
        [User(username=f"user{n:05d}", password="!") for n in range(users)], batch_size=1000
    )
    ids = list(User.objects.values_list("pk", flat=True))
    now = time.time()
    rng = random.Random(7)
    columns = (
        "request_id, user_id, purpose, provider, model, status, prompt_tokens, "
        "completion_tokens, cached_tokens, reasoning_tokens, estimated, cost, latency_ms, "
        "time_to_first_token_ms, created_at"
    )

    def row() -> tuple:
        provider, model = rng.choice(MODELS)
        prompt, completion = rng.randint(20, 4000), rng.randint(1, 1500)
        created = now - rng.random() * days * 86400
        return (
            uuid.UUID(int=rng.getrandbits(128)).hex
            if connection.vendor == "sqlite"
            else uuid.UUID(int=rng.getrandbits(128)),
            rng.choice(ids),
            "answer" if rng.random() < 0.95 else "title",
            provider,
            model,
            rng.choice(STATUSES),
            prompt,
            completion,
            rng.randint(0, prompt // 2),
            0,
            rng.random() < 0.02,
            round((prompt * 2.5 + completion * 10) / 1e6, 8),
            rng.randint(200, 30000),
            rng.randint(100, 2000),
            datetime.fromtimestamp(created, tz=UTC),
        )

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY chat_usage ({columns}) FROM STDIN") as copy:
                for _ in range(rows):
                    copy.write_row(row())
        else:
            marks = ", ".join(["%s"] * 15)
            sql = f"INSERT INTO chat_usage ({columns}) VALUES ({marks})"
            for start in range(0, rows, 20_000):
                cursor.executemany(sql, [row() for _ in range(min(20_000, rows - start))])
    print(f"inserted {rows:,} rows in {time.monotonic() - began:.0f} s", flush=True)
    usage_daily_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"daily totals and ANALYZE: {time.monotonic() - began:.0f} s", flush=True)
    return time.monotonic() - began


def timed(client, url: str, repeat: int) -> tuple[float, float, int]:
    times = []
    status = 0
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(url)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        status = response.status_code
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), max(times), status


def pages() -> list[tuple[str, str]]:
    from django.urls import reverse
    from django.utils import timezone

    from chat.models import User

    someone = User.objects.get(username="user00042")
    today = timezone.localdate()
    start = today - timedelta(days=59)
    dashboard = reverse("admin:chat_usage_dashboard")
    usage = reverse("admin:chat_usage_changelist")
    return [
        ("dashboard, today", f"{dashboard}?period=today"),
        ("dashboard, 7 days", f"{dashboard}?period=7d"),
        ("dashboard, 30 days", f"{dashboard}?period=30d"),
        ("dashboard, 60-day range", f"{dashboard}?period=range&start={start:%Y-%m-%d}"
         f"&end={today:%Y-%m-%d}"),
        ("dashboard, one user, 30 days", f"{dashboard}?period=30d&user=user00042"),
        ("dashboard, one model, 30 days", f"{dashboard}?period=30d&model=gpt-4o"),
        ("dashboard CSV, 30 days", f"{dashboard}?period=30d&format=csv"),
        ("usage list", usage),
        ("usage list, page 50", f"{usage}?p=50"),
        ("usage list, last 7 days", f"{usage}?period=7d"),
        ("usage list, one user (drill-down)", f"{usage}?user__id__exact={someone.pk}"),
        ("usage list, one model", f"{usage}?model=acme-large"),
        ("usage list, status stopped", f"{usage}?status__exact=stopped"),
        ("usage list, search a user name", f"{usage}?q=user00042"),
        ("user list (usage this month)", reverse("admin:chat_user_changelist")),
        ("one user's page", reverse("admin:chat_user_change", args=[someone.pk])),
    ]  # fmt: skip


def report(engine: str, rows: int, seconds: float, results: list[tuple]) -> str:
    lines = [
        f"**{engine}**, {rows:,} usage rows, seeded in {seconds:.0f} s. Milliseconds per page "
        "(median and slowest of the repeats), as a signed-in superuser:",
        "",
        "| page | median ms | max ms |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {name} | {median:.0f} | {worst:.0f} |" for name, median, worst, _ in results]
    return "\n".join(lines) + "\n"


def write(section: str, engine: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text()
    start, end = text.index(START), text.index(END)
    body = text[start + len(START) : end]
    key = f"<!-- {engine.split(' ')[0]} -->"
    parts = body.split("<!-- ")
    kept = [p for p in parts if p.strip() and not ("<!-- " + p).startswith(key)]
    new = "\n" + "".join("<!-- " + p for p in kept) + f"{key}\n{section}\n"
    path.write_text(text[: start + len(START)] + new + text[end:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    workdir = tempfile.mkdtemp(prefix="chatsite-admin-bench-")
    database = os.environ.get("DATABASE_URL") or str(Path(workdir) / "db.sqlite3")
    engine = configure(database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from chat.models import User

    call_command("migrate", verbosity=0)
    seconds = seed(args.rows, args.users, args.days)
    admin = User.objects.create_superuser("bench-admin", password="bench-admin-password-1")
    client = Client()
    client.force_login(admin)
    results = []
    for name, url in pages():
        median, worst, status = timed(client, url, args.repeat)
        assert status == 200, f"{name}: HTTP {status}"
        results.append((name, median, worst, status))
        print(f"{name:40} {median:8.0f} ms  (max {worst:.0f})", flush=True)
    section = report(engine, args.rows, seconds, results)
    print(section)
    if not args.no_write:
        write(section, engine)


if __name__ == "__main__":
    main()
