"""One access helper per object kind: views never look objects up by themselves."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from daemons.models import Daemon, Pool

User = AbstractBaseUser | AnonymousUser


def get_pool_for_user(user: User, pool_id: int, *, perm: str = "daemons.view_pool") -> Pool:
    if not user.has_perm(perm):
        raise PermissionDenied
    try:
        return Pool.objects.get(pk=pool_id)
    except Pool.DoesNotExist:
        raise Http404("No such pool.") from None


def get_daemon_for_user(user: User, daemon_id: int, *, perm: str = "daemons.view_daemon") -> Daemon:
    if not user.has_perm(perm):
        raise PermissionDenied
    try:
        return Daemon.objects.select_related("pool").get(pk=daemon_id)
    except Daemon.DoesNotExist:
        raise Http404("No such daemon.") from None
