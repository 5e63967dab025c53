"""The console's sign-in page: Django's LoginView behind the brute-force lockout.

A locked-out attempt is answered before the password is even checked (so a lockout cannot be used
to test passwords): 429, the form again with a message, and Retry-After.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse

from reports.console.pages import page_context, page_get
from reports.services.login_guard import login_client_address, login_lockout_get


class ConsoleLoginView(LoginView):
    template_name = page_get("login").template
    extra_context = page_context("login")
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = request.POST.get("username", "")
        lockout = login_lockout_get(username=username, address=login_client_address(request))
        if lockout is None:
            return super().post(request, *args, **kwargs)
        # An unbound form: a bound one would authenticate when the template reads its errors.
        form = self.get_form_class()(request, initial={"username": username[:150]})
        response = self.render_to_response(self.get_context_data(form=form, lockout=lockout), status=429)
        response["Retry-After"] = str(lockout.retry_after_s)
        return response
