"""The agent's own API tokens in the desk: create (shown once), list, revoke."""

from datetime import datetime, time

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from api import tokens
from api.forms import TokenForm
from tickets.views.desk import agent_required


@agent_required
def token_list(request):
    form, issued = TokenForm(request.POST or None), None
    if request.method == "POST" and form.is_valid():
        day = form.cleaned_data["expires_on"]
        expires = timezone.make_aware(datetime.combine(day, time.max)) if day else None
        issued = tokens.issue(request.user, name=form.cleaned_data["name"], expires_at=expires)
        form = TokenForm()
    context = {
        "form": form,
        "issued": issued,
        "tokens": request.user.api_tokens.all(),
        "now": timezone.now(),
    }
    return render(request, "api/tokens.html", context)


@agent_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(request.user.api_tokens, pk=pk)
    tokens.revoke(token)
    messages.success(request, f"“{token.name}” is revoked; calls with it are refused now.")
    return redirect("api_tokens")


urlpatterns = [
    path("desk/api-tokens/", token_list, name="api_tokens"),
    path("desk/api-tokens/<int:pk>/revoke/", token_revoke, name="api_token_revoke"),
]
