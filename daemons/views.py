from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from daemons import selectors


def pool_list(request: HttpRequest) -> HttpResponse:
    return render(request, "daemons/pool_list.html", {"pools": selectors.pools_for_user(request.user), "nav": "pools"})
