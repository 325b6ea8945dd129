"""Follow one log file by byte offset, across rotation and truncation.

Blocking file I/O only: callers run it in a thread. A position is a file
identity (device and inode, so a renamed file is still recognised) and a byte
offset into it; only complete lines are handed out, except the unterminated
end of a file that was rotated away, which can never be completed.
"""

from __future__ import annotations

import io
import os
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

# Most a single read hands out; a client far behind catches up in several chunks.
CHUNK_BYTES = 256 * 1024
# Most one poll reads of a log, whatever it has grown by (or however far back a
# viewer resumes): the rest before it is skipped with a "gap" notice, so a log
# that gains gigabytes between two polls (or /dev/zero-sized growth) costs this
# much memory, not its growth. The download still has every byte.
READ_LIMIT = 16 * CHUNK_BYTES
_FILE_ID_RE = re.compile(r"\d{1,20}-\d{1,20}\Z")


@dataclass(frozen=True)
class Chunk:
    """Complete lines of ``file`` from byte ``start`` up to ``end``."""

    file: str
    start: int
    end: int
    data: bytes

    def lines(self) -> list[str]:
        text = self.data.decode("utf-8", errors="replace")
        return text[:-1].split("\n") if text.endswith("\n") else text.split("\n")


@dataclass(frozen=True)
class State:
    """Something a viewer is told about the file rather than shown from it."""

    state: str  # "following", "missing", "rotated", "truncated", "gap", "unreadable"
    message: str
    file: str = ""
    offset: int = 0


Event = Chunk | State


def file_id(st: os.stat_result) -> str:
    return f"{st.st_dev}-{st.st_ino}"


def valid_file_id(value: object) -> bool:
    return isinstance(value, str) and bool(_FILE_ID_RE.match(value))


def tail_offset(handle, size: int, lines: int) -> int:
    """Offset where the last ``lines`` complete lines before ``size`` start.

    An unterminated last line is left out: it is shown once it is complete.
    """
    if lines <= 0 or size == 0:
        return size
    newlines = _newlines_backwards(handle, size)
    end = next(newlines, -1) + 1
    if end == 0:
        return 0
    for count, index in enumerate(newlines, start=1):
        if count == lines:
            return index + 1
    return 0


def _newlines_backwards(handle, size: int):
    """Offsets of the newlines before ``size``, last first."""
    position = size
    while position > 0:
        block_start = max(0, position - 64 * 1024)
        handle.seek(block_start)
        block = handle.read(position - block_start)
        index = len(block)
        while (index := block.rfind(b"\n", 0, index)) >= 0:
            yield block_start + index
        position = block_start


class LogFollower:
    """One reader's position in one log path.

    ``opener`` opens the log or a rotated copy beside it, by path, for
    reading in binary; it raises FileNotFoundError where there is none and
    Unreadable where the console may not or will not read it.
    """

    def __init__(self, path: str, opener: Callable[[str], BinaryIO]) -> None:
        self.path = path
        self._opener = opener
        self._handle = None
        self.file = ""
        self.offset = 0
        # A rotated-away file still to be finished before the current one.
        self._draining = False
        self._reported = ""

    # -- where to start ----------------------------------------------------

    def start_at_end(self, backlog_lines: int = 0) -> list[Event]:
        """Position before the last ``backlog_lines`` lines and read them."""
        self.close()
        if not self._open_current():
            return self._missing()
        st = os.fstat(self._handle.fileno())
        self.offset = tail_offset(self._handle, st.st_size, backlog_lines)
        return [self._say("following", "Following the log.")] + self._read()

    def resume(self, file: str, offset: int) -> list[Event]:
        """Continue exactly after ``offset`` in ``file``, finishing it first if it was rotated away."""
        self.close()
        if self._open_current() and self.file == file:
            self.offset = offset
            return [self._say("following", "Resumed where the viewer left off.")] + self._read()
        rotated = self._find_rotated(file)
        if rotated is not None:
            self.close()
            self._handle = rotated
            self.file = file
            self.offset = offset
            self._draining = True
            return [self._say("following", "Resumed in the rotated file the viewer was reading.")] + self.poll()
        events: list[Event] = [
            State("gap", "The file the viewer was reading is gone; continuing from the start of the current one.")
        ]
        self.close()
        if not self._open_current():
            return events + self._missing()
        self.offset = 0
        return events + [self._say("following", "Following the log.")] + self._read()

    # -- following ----------------------------------------------------------

    def poll(self) -> list[Event]:
        """Everything new since the last call: lines and state changes."""
        if self._handle is None:
            if not self._open_current():
                return self._missing()
            self.offset = 0
            return [self._say("following", "The log file appeared; following it.")] + self._read()
        if self._draining:
            events = self._read(final=True)
            self._draining = False
            return events + self._switch_to_current()
        events = self._read()
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        except OSError:
            return events
        if st is not None and file_id(st) == self.file:
            return events
        # The path now names another file (or none): the one being read was
        # rotated away. Finish it, then continue in its successor.
        events += self._read(final=True)
        return events + self._switch_to_current()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self._draining = False

    # -- internals ------------------------------------------------------------

    def _switch_to_current(self) -> list[Event]:
        old = self.file
        self.close()
        events: list[Event] = [State("rotated", "The log was rotated; continuing in the new file.", file=old)]
        if not self._open_current():
            return events + self._missing()
        self.offset = 0
        return events + [self._say("following", "Following the new log file.")] + self._read()

    def _open_current(self) -> bool:
        try:
            self._handle = self._opener(self.path)  # kept open to follow the inode
        except FileNotFoundError:
            self._handle = None
            return False
        self.file = file_id(os.fstat(self._handle.fileno()))
        return True

    def _read(self, *, final: bool = False) -> list[Event]:
        assert self._handle is not None
        events: list[Event] = []
        size = os.fstat(self._handle.fileno()).st_size
        if size < self.offset:
            events.append(State("truncated", "The log was truncated; reading it from the start.", file=self.file))
            self.offset = 0
        if size - self.offset > READ_LIMIT:
            skipped = self._skip_to(size - READ_LIMIT)
            events.append(
                State(
                    "gap",
                    f"{skipped:,} bytes of the log were skipped: a viewer is sent at most "
                    f"{READ_LIMIT // 2**20} MiB at once (download the log for all of it).",
                    file=self.file,
                    offset=self.offset,
                )
            )
        while self.offset < size:
            self._handle.seek(self.offset)
            data = self._handle.read(min(CHUNK_BYTES, size - self.offset))
            if not data:
                break
            cut = data.rfind(b"\n") + 1
            if final and self.offset + len(data) == size:
                cut = len(data)  # the end of a rotated-away file is as complete as it will get
            elif cut == 0:
                if len(data) < CHUNK_BYTES:
                    break  # an incomplete line: wait for the writer to finish it
                cut = len(data)  # an absurdly long line goes out in pieces
            events.append(Chunk(self.file, self.offset, self.offset + cut, data[:cut]))
            self.offset += cut
        return events

    def _skip_to(self, offset: int) -> int:
        """Moves to the first line that starts at or after ``offset`` (within a chunk); returns the bytes skipped."""
        assert self._handle is not None
        self._handle.seek(offset)
        newline = self._handle.read(CHUNK_BYTES).find(b"\n")
        start = offset + newline + 1 if newline >= 0 else offset
        skipped, self.offset = start - self.offset, start
        return skipped

    def _missing(self) -> list[Event]:
        if self._reported == "missing":
            return []
        self._reported = "missing"
        return [
            State(
                "missing", f"{os.path.basename(self.path)} does not exist yet (is the daemon started?); waiting for it."
            )
        ]

    def _say(self, state: str, message: str) -> State:
        self._reported = state
        return State(state, message, file=self.file, offset=self.offset)

    def _find_rotated(self, file: str):
        """The renamed copy of ``file`` beside the log (``X.old``, ``X.<timestamp>``), opened."""
        if not valid_file_id(file):
            return None
        directory, base = os.path.split(self.path)
        try:
            names = [n for n in os.listdir(directory or ".") if n.startswith(base + ".")]
        except OSError:
            return None
        for name in names:
            candidate = os.path.join(directory, name)
            try:
                handle = self._opener(candidate)
            except (OSError, Unreadable):
                continue
            if file_id(os.fstat(handle.fileno())) == file:
                return handle
            handle.close()
        return None


class Unreadable(Exception):
    """The file exists but the console may not read it."""


class FetchedLogFollower:
    """LogFollower's positions and events for a log the console can only fetch whole (condor_fetchlog).

    ``fetch`` returns the file's bytes; it is called at most once per
    ``interval`` seconds by ``poll``. A fetched file is known by a checksum of
    its first line (HTCondor starts each new file with its own header), so a
    rotation shows as a new file; the rest of the old one cannot be fetched.
    """

    def __init__(self, fetch, *, interval: float) -> None:
        self._fetch = fetch
        self._interval = interval
        self._content = b""
        self._fetched_at = float("-inf")
        self.file = ""
        self.offset = 0

    def start_at_end(self, backlog_lines: int = 0) -> list[Event]:
        self._refresh()
        self.offset = tail_offset(io.BytesIO(self._content), len(self._content), backlog_lines)
        return [self._following("Following the log through condor_fetchlog.")] + self._read()

    def resume(self, file: str, offset: int) -> list[Event]:
        self._refresh()
        if file == self.file:
            self.offset = offset
            return [self._following("Resumed where the viewer left off.")] + self._read()
        self.offset = 0
        gap = State("gap", "The file the viewer was reading is gone; continuing from the start of the current one.")
        return [gap, self._following("Following the log through condor_fetchlog.")] + self._read()

    def poll(self) -> list[Event]:
        if time.monotonic() - self._fetched_at < self._interval:
            return []
        old = self.file
        self._refresh()
        if self.file != old:
            self.offset = 0
            return [State("rotated", "The log was rotated; continuing in the new file.", file=old)] + self._read()
        return self._read()

    def close(self) -> None:
        self._content = b""

    def _refresh(self) -> None:
        from condor.errors import ProtocolError

        try:
            self._content = self._fetch()
        except ProtocolError as exc:
            raise Unreadable(str(exc)) from None
        self._fetched_at = time.monotonic()
        first = self._content[: (self._content.find(b"\n") + 1) or 4096]
        self.file = f"0-{zlib.crc32(first)}"

    def _read(self) -> list[Event]:
        events: list[Event] = []
        size = len(self._content)
        if size < self.offset:
            events.append(State("truncated", "The log was truncated; reading it from the start.", file=self.file))
            self.offset = 0
        end = self._content.rfind(b"\n", self.offset) + 1
        while self.offset < end:
            cut = min(end, self.offset + CHUNK_BYTES)
            if cut < end:
                cut = self._content.rfind(b"\n", self.offset, cut) + 1 or cut
            events.append(Chunk(self.file, self.offset, cut, self._content[self.offset : cut]))
            self.offset = cut
        return events

    def _following(self, message: str) -> State:
        return State("following", message, file=self.file, offset=self.offset)
