"""Reads for the daemons app."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from daemons.models import Pool


def pools_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Pool]:
    if not user.has_perm("daemons.view_pool"):
        return Pool.objects.none()
    return Pool.objects.all()
