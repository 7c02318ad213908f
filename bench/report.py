"""The benchmark's figures: computed from samples, written as a table and a plot."""

from dataclasses import dataclass
from pathlib import Path

from bench.load import Sample


@dataclass
class Phase:
    name: str
    samples: list[Sample]
    wall: float
    cpu: float = 0.0  # server CPU seconds
    peak_rss: int = 0
    rss_before: int = 0
    db_writes: int = 0

    @property
    def tokens(self) -> int:
        return sum(s.tokens for s in self.samples)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.wall

    def ttft(self, q: float) -> float:
        values = sorted(s.ttft for s in self.samples)
        return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def table(
    direct: Phase,
    relays: list[Phase],
    *,
    streams: int,
    idle: int,
    idle_rss: int,
    stops: list[float],
    closes: list[float],
) -> str:
    rows = [
        "| figure | " + " | ".join(p.name for p in relays) + " | target |",
        "| --- | " + " | ".join("---" for _ in relays) + " | --- |",
    ]

    def row(label: str, values: list[str], target: str = "") -> None:
        rows.append(f"| {label} | " + " | ".join(values) + f" | {target} |")

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms"

    row(f"answers measured (direct: {len(direct.samples)})", [str(len(p.samples)) for p in relays])
    row(
        "added time to first token, p50",
        [ms(p.ttft(0.5) - direct.ttft(0.5)) for p in relays],
        "≤ 30 ms",
    )
    row(
        "added time to first token, p99",
        [ms(p.ttft(0.99) - direct.ttft(0.99)) for p in relays],
        "≤ 100 ms",
    )
    row(
        "delivered tokens/s, relay ÷ direct",
        [f"{p.tokens_per_second / direct.tokens_per_second:.3f}" for p in relays],
        "≥ 0.9",
    )
    row(
        f"delivered tokens/s (direct: {direct.tokens_per_second:,.0f})",
        [f"{p.tokens_per_second:,.0f}" for p in relays],
    )
    row("server CPU s per 1,000 tokens", [f"{1000 * p.cpu / p.tokens:.4f}" for p in relays])
    floor = relays[0]  # the bare relay on the client chatsite uses by default
    row(
        f"CPU per token ÷ {floor.name}",
        [f"{(p.cpu / p.tokens) / (floor.cpu / floor.tokens):.2f}" for p in relays],
        "≤ 1.5",
    )
    row(
        "resident memory per open stream",
        [f"{(p.peak_rss - p.rss_before) / streams / 1024:.0f} KiB" for p in relays],
    )
    row(
        "database writes per answer",
        [f"{p.db_writes / len(p.samples):.2f}" for p in relays],
        "none per token",
    )
    rows.append("")
    rows.append(
        f"Resident memory per idle socket: {idle_rss / idle / 1024:.1f} KiB "
        f"({idle:,} sockets open)."
    )
    rows.append(
        f"Direct time to first token: p50 {ms(direct.ttft(0.5))}, p99 {ms(direct.ttft(0.99))}."
    )
    rows.append(
        f"Stop pressed in answers at once ({len(stops)} still running when it came): the "
        "upstream saw each request's "
        f"connection close after p50 {ms(_median(closes))}, max {ms(max(closes))} "
        f"({len(closes)} matched); the `stopped` frames, sent after the final saves, came "
        f"after p50 {ms(_median(stops))}, max {ms(max(stops))}."
    )
    return "\n".join(rows)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def plot(direct: Phase, relays: list[Phase], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for phase in [direct, *relays]:
        values = sorted(s.ttft * 1000 for s in phase.samples)
        fractions = [(i + 1) / len(values) for i in range(len(values))]
        left.plot(values, fractions, label=phase.name)
    left.set_xlabel("time to first token (ms)")
    left.set_ylabel("fraction of answers")
    left.set_title("Time to first token")
    left.legend()
    names = [p.name for p in [direct, *relays]]
    right.bar(names, [p.tokens_per_second for p in [direct, *relays]])
    right.set_ylabel("tokens delivered per second")
    right.set_title("Throughput, all streams")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def markers(section: str) -> tuple[str, str]:
    """The comments a section's figures sit between in docs/benchmarks.md."""
    return f"<!-- {section}-results:start -->", f"<!-- {section}-results:end -->"


# The relay benchmark's section.
START, END = markers("relay")


def write(doc: Path, text: str, section: str = "relay") -> None:
    """Put `text` between the section's markers in `doc` (added at the end if missing)."""
    start, end = markers(section)
    body = doc.read_text() if doc.exists() else f"# Benchmarks\n\n{start}\n{end}\n"
    if start not in body:
        body += f"\n{start}\n{end}\n"
    head, rest = body.split(start, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(f"{head}{start}\n{text}\n{end}{tail}")
