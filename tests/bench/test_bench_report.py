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
    text = table(
        direct,
        [relay],
        streams=10,
        idle=100,
        idle_rss=100 * 2048,
        stops=[0.03, 0.01, 0.02],
        closes=[0.004, 0.002, 0.003],
    )

    assert "| added time to first token, p50 | 20.0 ms |" in text
    assert "| delivered tokens/s, relay ÷ direct | 0.900 |" in text
    assert "| server CPU s per 1,000 tokens | 1.0000 |" in text
    assert "| database writes per answer | 5.00 |" in text
    assert "2.0 KiB (100 sockets open)" in text
    assert "close after p50 3.0 ms, max 4.0 ms (3 matched)" in text
    assert "came after p50 20.0 ms, max 30.0 ms" in text


def test_a_stop_is_matched_to_its_upstream_request_by_its_question():
    from bench.load import StopSample, upstream_close_delays

    stops = [StopSample("stop-0", 100.0, 0.5), StopSample("stop-1", 100.0, 0.5)]
    log = [
        {
            "body": {"messages": [{"content": "stop-1"}]},
            "outcome": "disconnected",
            "ended_at": 100.25,
        },
        {"body": {"messages": [{"content": "stop-0"}]}, "outcome": "complete", "ended_at": 101.0},
    ]
    assert upstream_close_delays(stops, log) == [0.25]


def test_writing_replaces_only_the_results_between_the_markers(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Title\n\nbefore\n{START}\nold figures\n{END}\nafter\n")
    write(doc, "new figures")
    assert doc.read_text() == f"# Title\n\nbefore\n{START}\nnew figures\n{END}\nafter\n"


def test_another_section_s_figures_are_written_between_their_own_markers(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Title\n{START}\nrelay figures\n{END}\n")
    write(doc, "api figures", section="api")
    assert doc.read_text() == (
        f"# Title\n{START}\nrelay figures\n{END}\n\n"
        "<!-- api-results:start -->\napi figures\n<!-- api-results:end -->\n"
    )
