"""The one way to check a permission, and one access helper per object kind.

Views never look objects up by themselves, nor call ``has_perm``: ``require``
refuses (PermissionDenied, a 403), ``allows`` answers for what a page shows,
``may_send`` says whether a user may send an HTCondor command, and
``pool_for``/``daemon_for`` check the permission before the object is looked
up, so a user without it cannot tell which ids exist. Refused commands are
recorded by ``daemons.commands.services.record_refusal``.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from condor.commands import Command
from daemons.models import Daemon, Pool
from daemons.permissions import COMMAND_PERMISSIONS

User = AbstractBaseUser | AnonymousUser

VIEW_POOL = "daemons.view_pool"
VIEW_DAEMON = "daemons.view_daemon"
# Drain and cancel a startd's drain (not an admin command of condor.commands: it is answered, with a request id).
SEND_DRAIN = "daemons.send_drain"


def allows(user: User, perm: str) -> bool:
    """Whether ``user`` holds ``perm`` ("app_label.codename")."""
    return user.has_perm(perm)


def require(user: User, perm: str) -> None:
    """Refuse (PermissionDenied) unless ``user`` holds ``perm``."""
    if not allows(user, perm):
        raise PermissionDenied


def may_send(user: User, command: Command) -> bool:
    """Whether ``user`` holds the console permission ``command`` needs."""
    return allows(user, COMMAND_PERMISSIONS[command])


def pool_for(user: User, pool_id: int, *, perm: str = VIEW_POOL) -> Pool:
    require(user, perm)
    try:
        return Pool.objects.get(pk=pool_id)
    except Pool.DoesNotExist:
        raise Http404("No such pool.") from None


def daemon_for(user: User, daemon_id: int, *, perm: str = VIEW_DAEMON) -> Daemon:
    require(user, perm)
    try:
        return Daemon.objects.select_related("pool").get(pk=daemon_id)
    except Daemon.DoesNotExist:
        raise Http404("No such daemon.") from None
