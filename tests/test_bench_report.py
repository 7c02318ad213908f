"""The benchmark's arithmetic and its writing into docs/benchmarks.md."""

from bench.load import Sample
from bench.report import END, START, Phase, table, write


def phase(name: str, ttfts: list[float], tokens: int = 10, wall: float = 1.0) -> Phase:
    return Phase(name, [Sample(t, tokens, 1.0) for t in ttfts], wall)


def test_percentiles_are_read_from_the_sorted_samples():
    p = phase("relay", [0.5, 0.1, 0.3, 0.2, 0.4])
    assert (p.ttft(0.0), p.ttft(0.5), p.ttft(1.0)) == (0.1, 0.3, 0.5)


def test_the_table_reports_relay_against_direct():
    direct = phase("direct", [0.010] * 10, tokens=100, wall=1.0)
    relay = phase("relay", [0.030] * 10, tokens=90, wall=1.0)
    relay.cpu, relay.db_writes = 0.9, 50
    text = table(direct, [relay], streams=10, idle=100, idle_rss=100 * 2048)

    assert "| added time to first token, p50 | 20.0 ms |" in text
    assert "| delivered tokens/s, relay ÷ direct | 0.900 |" in text
    assert "| server CPU s per 1,000 tokens | 1.0000 |" in text
    assert "| database writes per answer | 5.00 |" in text
    assert "2.0 KiB (100 sockets open)" in text


def test_writing_replaces_only_the_results_between_the_markers(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Title\n\nbefore\n{START}\nold figures\n{END}\nafter\n")
    write(doc, "new figures")
    assert doc.read_text() == f"# Title\n\nbefore\n{START}\nnew figures\n{END}\nafter\n"
