"""Live logs over websockets.

A viewer connects, is checked, gets the last lines (or resumes after the
byte it last showed: ``?file=<id>&offset=<n>``, or a ``{"resume_from": n,
"file": id}`` message), then every new line. Refusals accept first and then
close with a code a browser can read (a refused handshake only says 403):

* 4400: the client sent something other than a resume request, in the query or
  a message (the last message says why; the server logs one line),
* 4401: not logged in, 4403: lacking the permission, 4404: no such daemon or log,
* 4503: the log exists but the console cannot read it (the last message says why).

To the client: ``{"type": "lines", "file", "start", "end", "lines": [...]}``
(``end`` is the byte to resume from), ``{"type": "state", "state", "message"}``,
for a daemon's log ``{"type": "daemon", "state", "message"}`` (the inventory
saw it change) and ``{"type": "command", "message"}`` (a command about it
finished), and ``{"type": "error", "message"}`` just before a 4400.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

from daemons import access, events
from daemons.inventory import selectors
from daemons.logs import logstream, logtail, readers

CLOSE_BAD_REQUEST = 4400
CLOSE_LOGIN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_UNAVAILABLE = 4503
_MAX_OFFSET = 2**62
# A resume request is under 100 characters. Anything longer is refused before
# json.loads, whose recursion a frame of nested brackets would exhaust.
MAX_MESSAGE_LENGTH = 256
_EXPECTED = 'expected {"resume_from": <byte offset>, "file": <file id>}'

logger = logging.getLogger(__name__)


class BadRequest(ValueError):
    """What the client sent is not a resume request; the message says why without echoing it."""


class _LogConsumer(AsyncWebsocketConsumer):
    """What every log stream does; subclasses say which file and who may watch it."""

    permission = ""

    async def locate(self) -> logstream.LogLocation:
        """Where the log is, readable or fetched; PermissionDenied unless the user has ``permission``.

        One database hop per handshake where possible: hundreds of viewers
        reconnect at once after a restart, and daphne drops a handshake that
        takes longer than its timeout.
        """
        raise NotImplementedError

    async def connect(self) -> None:
        self.follower: logtail.LogFollower | logtail.FetchedLogFollower | None = None
        self.location: logstream.LogLocation | None = None
        # The reader hands lines over from its own task: one thing at a time
        # touches this viewer's position, as channels' dispatch would ensure.
        self.turn = asyncio.Lock()
        self.refused = False
        self.left = False  # the shared reader was left (_stop_following)
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_LOGIN)
            return
        try:
            start = parse_resume_query(self.scope.get("query_string", b""))
        except BadRequest as exc:
            await self._refuse(str(exc))
            return
        try:
            location = await self.locate()
        except PermissionDenied:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        except Http404:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        except logstream.LogUnavailable as exc:
            await self._give_up(CLOSE_NOT_FOUND if exc.missing_key else CLOSE_UNAVAILABLE, str(exc))
            return
        self.location = location
        self.follower = logstream.follower_for(location)
        # Join before the first read: whatever the reader hands over meanwhile
        # waits for this turn and is skipped by offset where already sent.
        async with self.turn:
            readers.join(location, self)
            await self.joined()
            if start is None:
                await self._run(self.follower.start_at_end, settings.CONDORWEB_LOG_BACKLOG_LINES)
            else:
                await self._run(self.follower.resume, *start)

    async def joined(self) -> None:
        """After the handshake's checks: what else this kind of log listens to."""

    async def disconnect(self, code: int) -> None:
        await self._stop_following()

    async def _stop_following(self) -> None:
        # Once per connection: on disconnect, or at once when the console
        # closes a refused one (the shared reader must not wait for the
        # client to finish the closing handshake, which a broken client never does).
        if self.location is not None and not self.left:
            self.left = True
            readers.leave(self.location, self)
        if self.follower is not None:
            await asyncio.to_thread(self.follower.close)
            self.follower = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.follower is None or self.refused:
            return
        try:
            file, offset = parse_resume_message(text_data)
        except BadRequest as exc:
            await self._refuse(str(exc))
            return
        async with self.turn:
            await self._run(self.follower.resume, file or self.follower.file, offset)

    # -- from the file's reader ----------------------------------------------

    async def deliver(self, message: dict[str, Any]) -> None:
        async with self.turn:
            if message["type"] == "log.chunk":
                await self.log_chunk(message)
            else:
                await self.log_state(message)

    async def log_chunk(self, message: dict[str, Any]) -> None:
        follower = self.follower
        if follower is None:
            return
        start, end = message["start"], message["end"]
        if message["file"] == follower.file and start <= follower.offset:
            if end <= follower.offset:
                return  # already sent
            if start == follower.offset:
                follower.offset = end
                await self.send(text_data=message["text"])
                return
            chunk = logtail.Chunk(follower.file, follower.offset, end, message["data"][follower.offset - start :])
            follower.offset = end
            await self._forward([chunk])
            return
        # A gap (a message lost or this viewer behind) or another file: read it ourselves.
        await self._run(follower.poll)

    async def log_state(self, message: dict[str, Any]) -> None:
        if self.follower is not None:
            await self._run(self.follower.poll)

    # -- internals ---------------------------------------------------------------

    async def _run(self, method, *args: Any) -> None:
        try:
            events = await asyncio.to_thread(method, *args)
        except (logtail.Unreadable, OSError) as exc:
            why = self.location.why if self.location is not None else ""
            await self._give_up(
                CLOSE_UNAVAILABLE, f"{exc} (condor_fetchlog was tried because: {why})" if why else str(exc)
            )
            return
        await self._forward(events)

    async def _forward(self, events: list[logtail.Event]) -> None:
        for event in events:
            await self.send(text_data=readers.client_message(event))

    async def _send(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(payload))

    async def _give_up(self, code: int, message: str) -> None:
        await self._send({"type": "state", "state": "unavailable", "message": message})
        await self.close(code=code)

    async def _refuse(self, why: str) -> None:
        # A browser's viewer only ever sends offsets the console gave it: this
        # client is broken or probing, so it is told once, logged once, and closed.
        self.refused = True
        user = self.scope["user"].get_username()
        logger.warning("Websocket %r of %s closed with %d: %s", self.scope["path"], user, CLOSE_BAD_REQUEST, why)
        await self._send({"type": "error", "message": why})
        await self._stop_following()
        await self.close(code=CLOSE_BAD_REQUEST)


def parse_resume_message(text: str | None) -> tuple[str, int]:
    """(file id or "", offset) from a client's message; BadRequest unless it is a resume request."""
    if text is None:
        raise BadRequest(f"binary messages are not understood: {_EXPECTED}")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise BadRequest(f"a message of {len(text)} characters (at most {MAX_MESSAGE_LENGTH}): {_EXPECTED}")
    try:
        message = json.loads(text)
    except ValueError:
        raise BadRequest(f"a message that is not JSON: {_EXPECTED}") from None
    if not isinstance(message, dict):
        raise BadRequest(_EXPECTED)
    return _resume_request(message.get("file"), message.get("resume_from"))


def parse_resume_query(query_string: bytes) -> tuple[str, int] | None:
    """(file id or "", offset) from ``?file=<id>&offset=<n>``, None without an offset; BadRequest if not valid."""
    query = parse_qs(query_string.decode("latin-1"))
    if "offset" not in query:
        return None
    return _resume_request((query.get("file") or [""])[0], query["offset"][0])


def _resume_request(file: object, offset: object) -> tuple[str, int]:
    # isdigit() and isdecimal() accept other scripts' digits ("²", "٣"), some of which int() refuses.
    if isinstance(offset, str) and offset.isascii() and offset.isdecimal() and len(offset) < 20:
        offset = int(offset)
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset < _MAX_OFFSET:
        raise BadRequest(f"resume_from must be a byte offset, digits 0-9 below 2**62: {_EXPECTED}")
    file = file or ""
    if file and not (isinstance(file, str) and file.isascii() and logtail.valid_file_id(file)):
        raise BadRequest(f"file must be a file id the console sent: {_EXPECTED}")
    return file, offset


class DaemonLogConsumer(_LogConsumer):
    """``ws/daemon/<id>/log/<KEY>/``: a daemon's log, by knob name."""

    permission = "daemons.view_logs"

    async def locate(self) -> logstream.LogLocation:
        kwargs = self.scope["url_route"]["kwargs"]
        daemon = await database_sync_to_async(access.daemon_for)(
            self.scope["user"], kwargs["daemon_id"], perm=self.permission
        )
        self.daemon = daemon
        self.pool_error = daemon.pool.last_refresh_error
        return await asyncio.to_thread(logstream.locate, daemon, kwargs["key"])

    # A log stops growing when its daemon dies; the viewer is told the daemon's
    # state whenever the inventory sees it change, so a silent pane explains itself.

    async def joined(self) -> None:
        events.consumers_listen_on(asyncio.get_running_loop())
        await self.channel_layer.group_add(events.pool_group(self.daemon.pool_id), self.channel_name)

    async def disconnect(self, code: int) -> None:
        if self.location is not None:
            await self.channel_layer.group_discard(events.pool_group(self.daemon.pool_id), self.channel_name)
        await super().disconnect(code)

    async def pool_changed(self, message: dict[str, Any]) -> None:
        health = await database_sync_to_async(selectors.daemon_health)(self.daemon.pk)
        if health is None or health == (self.daemon.state, self.pool_error):
            return
        (self.daemon.state, self.pool_error), label = health, f"{self.daemon.kind} {self.daemon.name}"
        text = f"{label} is {self.daemon.state}"
        if self.pool_error:
            # After OffFast the collector is often gone with the master: say so, not "up".
            text = f"the pool cannot be read: {self.pool_error} ({label} was last seen {self.daemon.state})"
        await self._send({"type": "daemon", "state": self.daemon.state, "message": text})

    async def command_recorded(self, message: dict[str, Any]) -> None:
        # The log shows what a command did; the viewer is told who sent it. A
        # command is about the daemon it went to, and about the daemon on the
        # same machine whose subsystem it names (DaemonOff SCHEDD goes to the master).
        names_this = bool(message["subsystem"]) and message["subsystem"].upper() == self.daemon.subsystem.upper()
        if message["daemon_id"] == self.daemon.pk or (names_this and message["machine"] == self.daemon.machine):
            await self._send({"type": "command", "message": message["text"]})


class ClientLogConsumer(_LogConsumer):
    """``ws/diagnostics/client-log/``: the console's own HTCondor client log."""

    permission = "daemons.manage_diagnostics"

    async def locate(self) -> logstream.LogLocation:
        if not await database_sync_to_async(access.allows)(self.scope["user"], self.permission):
            raise PermissionDenied
        location = logstream.client_log_location()
        # A daemon's log is checked as it is located; the client log is named by settings.
        await asyncio.to_thread(logstream.check_readable, location)
        return location
