"""The admin commands the console sends, with HTCondor's numbers for them.

Two members of ``htcondor2.DaemonCommands`` carry wrong ids in 25.14.1
(DaemonOffPeaceful = 469, DaemonsOn = 483), so condorweb keeps the numbers
itself and the binding passes them to C unchanged.
"""

from __future__ import annotations

import enum

from condor.errors import InvalidInput


class Command(enum.Enum):
    Reconfig = (60004, False, False, "Tells the daemon (and a master's children) to reread its configuration.")
    Restart = (453, False, True, "Restarts the master and every daemon it runs; running jobs are killed.")
    RestartPeaceful = (485, False, True, "Restarts the master and its daemons once running jobs have finished.")
    DaemonOn = (469, True, False, "Asks the master to start the chosen daemon again.")
    DaemonOff = (467, True, True, "Asks the master to shut the chosen daemon down gracefully.")
    DaemonOffFast = (468, True, True, "Asks the master to shut the chosen daemon down at once; its jobs are killed.")
    DaemonOffPeaceful = (483, True, True, "Asks the master to stop the chosen daemon once its jobs have finished.")
    DaemonsOn = (455, False, False, "Asks the master to start all of its daemons.")
    DaemonsOff = (454, False, True, "Stops every daemon this master runs, gracefully; the master stays up.")
    DaemonsOffFast = (461, False, True, "Stops every daemon this master runs at once; the master stays up.")
    DaemonsOffPeaceful = (
        484,
        False,
        True,
        "Stops every daemon this master runs once jobs finish; the master stays up.",
    )
    OffGraceful = (60005, False, True, "Shuts the daemon down gracefully.")
    OffPeaceful = (60015, False, True, "Shuts the daemon down once its jobs have finished.")
    OffFast = (60006, False, True, "Shuts the daemon down at once.")
    OffForce = (60042, False, True, "Shuts the daemon down at once, even one set to peaceful shutdown.")
    SetPeacefulShutdown = (60016, False, False, "Makes the next shutdown of this daemon peaceful.")
    SetForceShutdown = (60041, False, False, "Makes the next shutdown of this daemon forced.")

    def __init__(self, command_id: int, needs_target: bool, destructive: bool, description: str) -> None:
        self.command_id = command_id
        self.needs_target = needs_target
        self.destructive = destructive
        self.description = description

    @classmethod
    def by_name(cls, name: str) -> Command:
        try:
            return cls[name]
        except KeyError:
            raise InvalidInput(f"{str(name)[:40]!r} is not a daemon command condorweb knows.") from None


MASTER_ONLY_COMMANDS = frozenset(
    {
        Command.Restart,
        Command.RestartPeaceful,
        Command.DaemonOn,
        Command.DaemonOff,
        Command.DaemonOffFast,
        Command.DaemonOffPeaceful,
        Command.DaemonsOn,
        Command.DaemonsOff,
        Command.DaemonsOffFast,
        Command.DaemonsOffPeaceful,
    }
)


def commands_for_kind(kind: str) -> list[Command]:
    """Commands a daemon of this kind accepts."""
    if kind == "master":
        return list(Command)
    return [c for c in Command if c not in MASTER_ONLY_COMMANDS]
