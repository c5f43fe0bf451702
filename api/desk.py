"""A user's own API tokens, on the desk for agents and on the portal for contacts:
create (shown once), list, revoke."""

from datetime import datetime, time

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from api import tokens
from api.forms import TokenForm
from tickets.views.desk import agent_required
from tickets.views.portal import contact_required

# side -> (the page's base template, its URL name, where the docs say to look)
SIDES = {
    "desk": ("desk/base.html", "api_tokens", "/api/v1/docs/"),
    "portal": ("portal/base.html", "portal_api_tokens", "/api/v1/docs/#/portal"),
}


def token_list(request, side: str):
    base, url_name, docs = SIDES[side]
    form, issued = TokenForm(request.POST or None), None
    if request.method == "POST" and form.is_valid():
        day = form.cleaned_data["expires_on"]
        expires = timezone.make_aware(datetime.combine(day, time.max)) if day else None
        issued = tokens.issue(request.user, name=form.cleaned_data["name"], expires_at=expires)
        form = TokenForm()
    context = {
        "base": base,
        "revoke_url": f"{url_name}_revoke",
        "docs": docs,
        "form": form,
        "issued": issued,
        "tokens": request.user.api_tokens.all(),
        "now": timezone.now(),
        "nav": "api_tokens",
    }
    return render(request, "api/tokens.html", context)


@require_POST
def token_revoke(request, pk: int, side: str):
    token = get_object_or_404(request.user.api_tokens, pk=pk)
    tokens.revoke(token)
    messages.success(request, f"“{token.name}” is revoked; calls with it are refused now.")
    return redirect(SIDES[side][1])


urlpatterns = [
    path("desk/api-tokens/", agent_required(token_list), {"side": "desk"}, name="api_tokens"),
    path(
        "desk/api-tokens/<int:pk>/revoke/",
        agent_required(token_revoke),
        {"side": "desk"},
        name="api_tokens_revoke",
    ),
    path(
        "portal/api-tokens/",
        contact_required(token_list),
        {"side": "portal"},
        name="portal_api_tokens",
    ),
    path(
        "portal/api-tokens/<int:pk>/revoke/",
        contact_required(token_revoke),
        {"side": "portal"},
        name="portal_api_tokens_revoke",
    ),
]
