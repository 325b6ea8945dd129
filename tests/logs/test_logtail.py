"""The log tailer (daemons/logs/logtail.py): what one poll reads is bounded, whatever the log grew by."""

from __future__ import annotations

from pathlib import Path

from daemons.logs.logtail import READ_LIMIT, Chunk, LogFollower, State


def _follower(path: Path) -> LogFollower:
    follower = LogFollower(str(path), lambda name: open(name, "rb"))
    follower.start_at_end(0)
    return follower


def test_a_log_that_grew_past_the_read_limit_is_skipped_to_its_last_lines_with_a_gap_notice(tmp_path: Path) -> None:
    log = tmp_path / "MasterLog"
    log.write_bytes(b"")
    follower = _follower(log)
    line = b"x" * 99 + b"\n"
    log.write_bytes(line * (3 * READ_LIMIT // len(line)))

    events = follower.poll()

    chunks = [e for e in events if isinstance(e, Chunk)]
    gaps = [e for e in events if isinstance(e, State) and e.state == "gap"]
    assert len(gaps) == 1 and "bytes of the log were skipped" in gaps[0].message
    assert sum(len(c.data) for c in chunks) <= READ_LIMIT
    assert chunks[0].start % len(line) == 0 and chunks[-1].end == log.stat().st_size


def test_growth_within_the_limit_is_read_whole_without_a_gap(tmp_path: Path) -> None:
    log = tmp_path / "MasterLog"
    log.write_bytes(b"")
    follower = _follower(log)
    log.write_bytes(b"one\ntwo\n")

    events = follower.poll()

    assert [e.state for e in events if isinstance(e, State)] == []
    assert b"".join(e.data for e in events if isinstance(e, Chunk)) == b"one\ntwo\n"
