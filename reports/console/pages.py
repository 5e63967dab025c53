"""Every console URL in one registry: its name, its path, the methods it answers, who may open it,
and for the pages a moderator navigates to, its template, title and entry in the navigation bar.

The one convention for a console page:

- a form in ``reports.console.forms`` (when it takes input), a view in ``reports.console.views``
  that reads through selectors and writes through services, and renders with ``render_page``;
- a template in ``templates/console/``, extending ``console/base.html``;
- an entry in ``PAGES`` below, and its view in ``reports.console.urls.VIEWS``.

``urls.py`` builds the URL patterns from ``PAGES`` and applies each entry's methods and permission
(``guarded``): the views themselves carry neither. The navigation bar is drawn from the entries with
a ``nav_label``, in their order here (``{% console_nav %}``), for users their permission admits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from reports.console.access import View, allow, staff_required

STAFF = "staff"  # active staff users (the moderators); others get the sign-in page or a 403
PUBLIC = "public"  # anyone (signing in and out)


@dataclass(frozen=True)
class Page:
    """One console URL (``console:<name>``)."""

    name: str
    route: str  # under /console/
    methods: tuple[str, ...] = ("GET",)  # () = the view answers methods itself (Django's auth views)
    permission: str = STAFF
    template: str = ""  # a page: its template; "" for actions, files and downloads
    title: str = ""  # the page's <title> (a template may name itself instead: an item, a scan)
    nav_label: str = ""  # its entry in the navigation bar; "" = none
    section: str = ""  # the navigation entry it sits under (marked current on it)

    @property
    def nav(self) -> str:
        """The navigation entry marked current on this page ("" = none)."""
        return self.section or (self.name if self.nav_label else "")

    def admits(self, user: AbstractBaseUser | AnonymousUser | None) -> bool:
        if self.permission == PUBLIC:
            return True
        return bool(
            user is not None and user.is_authenticated and getattr(user, "is_active", False) and user.is_staff
        )


_MEDIA = "scans/<uuid:scan_id>/media/<int:index>/"
POST = ("POST",)

PAGES: tuple[Page, ...] = (
    # the queue and its items
    Page("queue", "", template="console/queue.html", title="Queue", nav_label="Queue"),
    Page("bulk-decide", "items/bulk/", methods=POST),
    Page("item", "items/<uuid:item_id>/", template="console/item.html", section="queue"),
    Page("item-claim", "items/<uuid:item_id>/claim/", methods=POST),
    Page("item-release", "items/<uuid:item_id>/release/", methods=POST),
    Page("item-decide", "items/<uuid:item_id>/decide/", methods=POST),
    # the scans archive, a scan and the files behind its evidence
    Page("scans", "scans/", template="console/scans.html", title="Scans", nav_label="Scans"),
    Page("scans-csv", "scans/export.csv"),
    Page("scan", "scans/<uuid:scan_id>/", template="console/scan_detail.html", section="scans"),
    Page("media-file", _MEDIA),
    Page("media-reveal", _MEDIA + "reveal/", methods=POST),
    Page("media-thumb", _MEDIA + "thumb.jpg"),
    Page("face-heatmap", _MEDIA + "faces/<int:face>/heatmap.png"),
    Page("frame-thumb", _MEDIA + "frames/<int:frame>.jpg"),
    # numbers, the audit log, tools
    Page(
        "dashboard", "dashboard/", template="console/dashboard.html", title="Dashboard", nav_label="Dashboard"
    ),
    Page("audit", "audit/", template="console/audit.html", title="Audit log", nav_label="Audit"),
    Page("audit-csv", "audit/export.csv"),
    Page(
        "watermark",
        "tools/watermark/",
        methods=("GET", "POST"),
        template="console/watermark.html",
        title="Watermark check",
        nav_label="Watermark",
    ),
    Page(
        "generations",
        "generations/",
        template="console/generations.html",
        title="Generations",
        nav_label="Generations",
    ),
    Page("generation-thumb", "generations/<str:generation_id>/<str:role>.jpg"),
    # the moderator's own settings, signing in and out
    Page("blur-setting", "settings/blur/", methods=POST),
    Page("login", "login/", methods=(), permission=PUBLIC, template="console/login.html", title="Sign in"),
    Page("logout", "logout/", methods=(), permission=PUBLIC),
)
PAGES_BY_NAME = {page.name: page for page in PAGES}


def page_get(name: str) -> Page:
    return PAGES_BY_NAME[name]


def guarded(page: Page, view: View) -> View:
    """The view behind the page's method check (first: a 405 before any redirect) and permission."""
    if page.permission == STAFF:
        view = staff_required(view)
    if page.methods:
        view = allow(*page.methods)(view)
    return view


def nav_pages(user: AbstractBaseUser | AnonymousUser | None) -> list[Page]:
    """The navigation bar's entries the user may open, in their order."""
    return [page for page in PAGES if page.nav_label and page.admits(user)]


def page_context(name: str) -> dict[str, Any]:
    """What ``console/base.html`` needs of the page being shown: its title and navigation entry."""
    page = page_get(name)
    return {"console_page": page, "nav": page.nav}


def render_page(
    request: HttpRequest, name: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """The page ``name`` with ``context``: its registered template, title and navigation entry."""
    page = page_get(name)
    return render(request, page.template, {**page_context(name), **context}, status=status)
