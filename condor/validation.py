"""Validation: nothing leaves the console for HTCondor unless it passes these.

Each ``validate_*`` returns its argument (normalised where said) or raises
InvalidInput naming the rule it broke; forms call them too, so the page and
the package refuse the same input.
"""

from __future__ import annotations

import os
import re
import stat

from condor.errors import InvalidInput

_KNOB_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_SUBSYSTEM_RE = re.compile(r"[A-Z][A-Z0-9_]*\Z")
_SINFUL_RE = re.compile(r"<[^<>\s]+>\Z")
_HOSTPORT_RE = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?\Z|\[[0-9A-Fa-f:.]+\](:\d{1,5})?\Z")
_MAX_KNOB = 256
_MAX_VALUE = 16_384

# Subsystems a condor_master may run; anything else is a typo or an attack.
KNOWN_SUBSYSTEMS = frozenset(
    {
        "MASTER",
        "SCHEDD",
        "STARTD",
        "COLLECTOR",
        "NEGOTIATOR",
        "SHARED_PORT",
        "CREDD",
        "KBDD",
        "HAD",
        "REPLICATION",
        "DEFRAG",
        "GRIDMANAGER",
        "ROOSTER",
        "JOB_ROUTER",
        "VIEW_SERVER",
        "CONDOR_VIEW",
        "ANNEX",
        "PLACEMENTD",
        "LEASEMANAGER",
        "GANGLIAD",
        "TRANSFERD",
        "STARTER",
        "SHADOW",
        "HDFS",
        "CKPT_SERVER",
    }
)


def validate_knob(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidInput("A knob name is required.")
    if len(name) > _MAX_KNOB or not _KNOB_RE.match(name):
        raise InvalidInput(
            f"{name[:80]!r} is not an HTCondor knob name.",
            hint="Use letters, digits and underscores, optionally with a SUBSYSTEM. or LOCALNAME. prefix.",
        )
    return name


def validate_value(value: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput("A knob value must be text.")
    if any(ch in value for ch in "\r\n\x00"):
        raise InvalidInput("A knob value must be a single line.", hint="Remove line breaks from the value.")
    if len(value) > _MAX_VALUE:
        raise InvalidInput(f"A knob value may be at most {_MAX_VALUE} characters.")
    return value


def validate_subsystem(name: str) -> str:
    if not isinstance(name, str) or not _SUBSYSTEM_RE.match(name) or name not in KNOWN_SUBSYSTEMS:
        raise InvalidInput(
            f"{str(name)[:40]!r} is not an HTCondor subsystem.",
            hint="Choose one of the daemons the master runs, e.g. SCHEDD or STARTD.",
        )
    return name


def validate_log_name(log: str) -> str:
    """A log as ``condor_fetchlog`` names it: MASTER for MASTER_LOG."""
    if not isinstance(log, str) or not _SUBSYSTEM_RE.match(log) or len(log) > 64:
        raise InvalidInput(f"{str(log)[:40]!r} is not a log condor_fetchlog can fetch.")
    return log


def validate_address(address: str) -> str:
    if not isinstance(address, str) or len(address) > 2048 or not _SINFUL_RE.match(address):
        raise InvalidInput(f"{str(address)[:80]!r} is not a daemon address (expected <host:port?...>).")
    return address


def validate_collector(collector: str) -> str:
    """A collector is one ``host[:port]`` (HA pools list several, comma-separated)."""
    parts = [p.strip() for p in str(collector).split(",")]
    if not collector or len(collector) > 1024 or not all(p and _HOSTPORT_RE.match(p) for p in parts):
        raise InvalidInput(
            f"{str(collector)[:80]!r} is not a collector address.",
            hint="Use host or host:port, for example cm.example.org:9618; separate several with commas.",
        )
    for part in parts:
        port = part.rsplit(":", 1)[1] if ":" in part and not part.endswith("]") else None
        if port is not None and not 0 < int(port) < 65536:
            raise InvalidInput(f"{part!r} has a port outside 1-65535.")
    return ",".join(parts)


# Kernel views and devices: never a file the console should hand to HTCondor
# (/proc/self/environ would give away the console's own environment).
_SYSTEM_TREES = ("/proc", "/sys", "/dev")


def _outside_system_trees(path: str) -> str:
    """``path`` resolved through every symlink; InvalidInput if it or its target is under /proc, /sys or /dev."""
    real = os.path.realpath(path)
    for candidate in (os.path.normpath(path), real):
        for tree in _SYSTEM_TREES:
            if candidate == tree or candidate.startswith(tree + "/"):
                raise InvalidInput(
                    f"{path[:200]} is under {tree}.", hint="Give a file of its own; /proc, /sys and /dev are refused."
                )
    return real


def validate_token_file(path: str) -> str:
    """A pool's IDTOKEN file: absolute, a regular file, owned by the console's user, mode 600 (or stricter).

    The console hands the file to HTCondor, which sends what it reads to the
    pool's daemons: a path to another file would send that file (e.g.
    /etc/shadow) to whoever runs the collector.
    """
    if not os.path.isabs(path):
        raise InvalidInput(
            f"{path!r} is not an absolute path.", hint="Give the token file's absolute path on the console host."
        )
    _outside_system_trees(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InvalidInput(f"There is no file at {path}.") from None
    except OSError as exc:
        raise InvalidInput(f"The console cannot look at {path}: {exc.strerror}.") from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInput(
            f"{path} is not a regular file.",
            hint="A token file is a plain file written by condor_token_fetch or condor_token_create.",
        )
    if st.st_uid != os.geteuid():
        raise InvalidInput(
            f"{path} is owned by uid {st.st_uid}, not by the console's user (uid {os.geteuid()}).",
            hint="A token file belongs to the user the console runs as: chown it to that user.",
        )
    if st.st_mode & 0o077:
        raise InvalidInput(
            f"{path} has mode {st.st_mode & 0o777:o}: group or others may read it.", hint=f"Run chmod 600 {path}."
        )
    if not os.access(path, os.R_OK):
        raise InvalidInput(f"The console cannot read {path}.", hint="Make it readable by its owner (chmod 600).")
    return path


def validate_tool_command(path: str) -> str:
    """A pool's condor_config_val: the absolute path of one executable, which the console runs without a shell.

    Arguments are not accepted: a command line such as ``/bin/sh -c '...'``
    would let whoever edits a pool run anything as the console.
    """
    if not os.path.isabs(path):
        raise InvalidInput(
            f"{path[:200]!r} is not an absolute path.",
            hint="Give the absolute path of condor_config_val (or of a script that runs it); no arguments, no shell.",
        )
    real = _outside_system_trees(path)
    if not os.path.isfile(real) or not os.access(real, os.X_OK):
        raise InvalidInput(
            f"{path[:200]} is not an executable file.",
            hint="Give the absolute path of condor_config_val (or of a script that runs it); no arguments, no shell.",
        )
    return path


# Slot ads carry the reason in every slot of a draining startd, and other
# operators read it on their pages: a sentence, not a document.
_MAX_DRAIN_REASON = 256
# condor_status -constraint has no limit, but a constraint from a form is a
# line or two; 4 KiB is far more than any seen in HTCondor's own docs.
_MAX_CONSTRAINT = 4096
_REQUEST_ID_RE = re.compile(r"[0-9]{1,10}\Z")


def validate_drain_reason(reason: str) -> str:
    """A drain's reason, shown to other operators in every slot ad: one line of text, stripped."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("A drain needs a reason.", hint="Say why, e.g. 'kernel update, back by 14:00'.")
    reason = reason.strip()
    if len(reason) > _MAX_DRAIN_REASON:
        raise InvalidInput(f"A drain reason may be at most {_MAX_DRAIN_REASON} characters.")
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in reason):
        raise InvalidInput("A drain reason must be one line of plain text.", hint="Remove line breaks and tabs.")
    return reason


def validate_constraint(expr: str, *, what: str = "constraint") -> str:
    """A ClassAd expression from a form, stripped: one line, bounded, its brackets and strings closed.

    The worker then parses it with HTCondor's own parser before anything is
    sent (``condor.child``), as the value of a one-attribute ClassAd: the
    balanced brackets and the lack of a top-level ';' checked here are what
    keep it in that place. An expression the parser rejects becomes
    InvalidInput in the words of ``describe_parse_problem``.
    """
    if not isinstance(expr, str) or not expr.strip():
        raise InvalidInput(f"The {what} is empty.", hint='Give a ClassAd expression, e.g. Machine == "exec01".')
    expr = expr.strip()
    if len(expr) > _MAX_CONSTRAINT:
        raise InvalidInput(f"The {what} may be at most {_MAX_CONSTRAINT} characters.")
    if any(ch in expr for ch in "\r\n\x00"):
        raise InvalidInput(f"The {what} must be a single line.", hint="Remove line breaks from it.")
    problem = _structure_problem(expr)
    if problem:
        raise InvalidInput(f"The {what} is not an expression HTCondor can read: {problem}.")
    return expr


def validate_request_id(request_id: str) -> str:
    """A drain request id as a startd hands it out: a decimal counter (the startd reads it with atoi)."""
    if not isinstance(request_id, str) or not _REQUEST_ID_RE.match(request_id):
        raise InvalidInput(
            f"{str(request_id)[:40]!r} is not a drain request id.", hint="A startd numbers its drains 1, 2, 3..."
        )
    return request_id


# What HTCondor's ClassAd parser names in its (rare) messages.
_TOKEN_WORDS = {
    # The worker parses an expression as the value of a one-attribute ClassAd,
    # so "';' or ']'" means "an operator or the end" to whoever wrote it.
    "LEX_SEMICOLON or LEX_CLOSE_BOX": "an operator or the end of the expression",
    "while parsing classad: ": "",
    "LEX_CLOSE_PAREN": "')'",
    "LEX_OPEN_PAREN": "'('",
    "LEX_CLOSE_BOX": "the end of the expression",
    "LEX_SEMICOLON": "';'",
    "LEX_IDENTIFIER": "a name",
    "LEX_STRING_VALUE": "a string",
    "LEX_INTEGER_VALUE": "a number",
    "LEX_REAL_VALUE": "a number",
    "LEX_END_OF_INPUT": "the end of the expression",
}
_TRAILING_OPERATOR_RE = re.compile(r"(&&|\|\||==|!=|=\?=|=!=|<=|>=|[<>+\-*/%!?:=&|^])\s*\Z")


def _structure_problem(expr: str) -> str:
    """What is wrong with ``expr``'s strings and brackets, or ""."""
    opened: list[str] = []
    in_string = escaped = False
    for ch in expr:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "([{":
            opened.append(ch)
        elif ch in ")]}":
            if not opened or "([{"[")]}".index(ch)] != opened.pop():
                return f"it has a {ch!r} that closes nothing opened before it"
        elif ch == ";" and "[" not in opened:
            return "it has a ';' outside a nested ClassAd: give one expression"
    if in_string:
        return 'a string is never closed (a " is missing)'
    if opened:
        return f"a {opened[-1]!r} is never closed"
    return ""


def describe_parse_problem(expr: str, parser_error: str = "") -> str:
    """Why HTCondor's parser rejects ``expr``, in an operator's words (the parser itself mostly says nothing useful)."""
    problem = _structure_problem(expr)
    if problem:
        return problem
    if _TRAILING_OPERATOR_RE.search(expr):
        return "it ends with an operator that has nothing after it"
    if parser_error:
        words = parser_error.replace("exptected", "expected")
        for token, word in _TOKEN_WORDS.items():
            words = words.replace(token, word)
        return f"HTCondor's parser says: {words.strip()[:200]}"
    return "HTCondor's ClassAd parser rejects it (look for a missing operator or operand)"
