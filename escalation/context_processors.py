from django.utils.functional import SimpleLazyObject

from escalation.models import Notification


def unseen_notifications(request):
    """The navbar badge's count of the signed-in agent's unseen notifications.

    Lazy, so a page that never shows the badge (the portal, the admin, anonymous pages)
    runs no query; a page that does runs one count on a partial index."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unseen_notifications": 0}
    return {
        "unseen_notifications": SimpleLazyObject(
            lambda: Notification.objects.filter(recipient=user, seen_at__isnull=True).count()
        )
    }
