"""The agent's notifications at /desk/notifications/: newest first, unseen marked."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from escalation import notifications
from escalation.models import Notification
from tickets.views.desk import agent_required

PAGE_SIZE = 50


@agent_required
def notification_list(request):
    mine = Notification.objects.filter(recipient=request.user).select_related("ticket")
    page = Paginator(mine, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "escalation/notifications.html", {"page": page, "nav": "notifications"})


@require_POST
@agent_required
def notification_open(request, pk: int):
    """Mark one seen and go to its request."""
    notification = get_object_or_404(
        Notification.objects.select_related("ticket"), pk=pk, recipient=request.user
    )
    notifications.mark_seen(request.user, pk=notification.pk)
    return redirect("desk:request", notification.ticket.number)


@require_POST
@agent_required
def notification_seen(request):
    """Mark every one seen (or, with `pk`, that one) and come back to the list."""
    pk = request.POST.get("pk")
    notifications.mark_seen(request.user, pk=int(pk) if pk and pk.isdigit() else None)
    return redirect("notifications:list")
