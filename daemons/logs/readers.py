"""One reader per watched file, fanning out to the viewers in this process.

Per process, one thread follows each watched file and hands what it reads
to the viewers in that process directly, not through the channel layer: with
Redis, a line to 200 viewers was 200 round trips through Redis, which one
daphne process could not keep up with. Every daphne process follows the files
its own viewers watch, so each viewer gets every line from the process it is
connected to, and the reader stops when the last one leaves. Each viewer also
keeps its own position (see ``consumers._LogConsumer``), so a
viewer that fell behind reads again from the file, never skipping or
repeating a line.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
from typing import Any, Protocol

from daemons.logs import logtail
from daemons.logs.logstream import LogLocation, follower_for

logger = logging.getLogger(__name__)

# How often a reader looks at its file: the floor of the append-to-browser latency.
POLL_INTERVAL = 0.005


class Viewer(Protocol):
    async def deliver(self, message: dict[str, Any]) -> None:
        """Take one of ``as_message``'s messages; called on the viewer's event loop."""


class _Reader:
    """A thread following one file; what it reads goes to the file's viewers in this process."""

    def __init__(self, location: LogLocation, loop: asyncio.AbstractEventLoop) -> None:
        self.location = location
        self.loop = loop
        self.viewers: set[Viewer] = set()
        self._stop = threading.Event()
        self._queue: asyncio.Queue[list[logtail.Event]] = asyncio.Queue()
        name = hashlib.sha256(location.source.encode()).hexdigest()[:8]
        self._thread = threading.Thread(target=self._follow, name=f"condorweb-log-{name}", daemon=True)
        self._sender: asyncio.Task | None = None

    def start(self) -> None:
        self._sender = self.loop.create_task(self._send())
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._sender is not None:
            self._sender.cancel()

    def _follow(self) -> None:
        follower = follower_for(self.location)
        try:
            events = follower.start_at_end(0)
            while not self._stop.is_set():
                if events:
                    self.loop.call_soon_threadsafe(self._queue.put_nowait, events)
                self._stop.wait(POLL_INTERVAL)
                events = follower.poll()
        except (logtail.Unreadable, OSError) as exc:
            # The reader stops; told, each viewer reads on with its own follower,
            # meets the same reason and closes with it.
            try:
                self.loop.call_soon_threadsafe(self._queue.put_nowait, [logtail.State("unreadable", str(exc))])
            except RuntimeError:
                pass  # the event loop closed under us
        except RuntimeError:
            pass  # the event loop closed under us
        finally:
            follower.close()

    async def _send(self) -> None:
        while True:
            events = await self._queue.get()
            for event in events:
                message = as_message(event)
                for viewer in list(self.viewers):
                    try:
                        await viewer.deliver(message)
                    except Exception:
                        logger.exception("A log viewer failed to take a message")


def as_message(event: logtail.Event) -> dict:
    if isinstance(event, logtail.Chunk):
        # The client's message is built once here, not once per viewer: with
        # hundreds of viewers the per-viewer encoding was most of the cost.
        return {
            "type": "log.chunk",
            "file": event.file,
            "start": event.start,
            "end": event.end,
            "data": event.data,
            "text": client_message(event),
        }
    return {"type": "log.state", "state": event.state, "file": event.file}


def client_message(event: logtail.Event) -> str:
    """What a viewer's browser gets for ``event`` (see ``consumers``)."""
    if isinstance(event, logtail.Chunk):
        payload = {"type": "lines", "file": event.file, "start": event.start, "end": event.end, "lines": event.lines()}
    else:
        payload = {
            "type": "state",
            "state": event.state,
            "message": event.message,
            "file": event.file,
            "offset": event.offset,
        }
    return json.dumps(payload)


# Per process; touched only from the event loop, so no lock.
_readers: dict[str, _Reader] = {}


def join(location: LogLocation, viewer: Viewer) -> None:
    """Add ``viewer`` to the log's viewers, starting its reader if it is the first."""
    loop = asyncio.get_running_loop()
    reader = _readers.get(location.source)
    if reader is None or reader.loop is not loop:
        reader = _readers[location.source] = _Reader(location, loop)
        reader.start()
    reader.viewers.add(viewer)


def leave(location: LogLocation, viewer: Viewer) -> None:
    """Remove a viewer; the last one out stops the reader."""
    reader = _readers.get(location.source)
    if reader is None:
        return
    reader.viewers.discard(viewer)
    if not reader.viewers:
        reader.stop()
        del _readers[location.source]


def readers_running() -> int:
    return len(_readers)
