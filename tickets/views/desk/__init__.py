"""The agents' desk under /desk/. Each module serves one area and lists its own URLs."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from tickets.access import is_agent


def agent_required(view):
    """Signed-in agents only: a portal contact's login does not open the desk."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_agent(request.user):
            raise PermissionDenied("The desk is for agents.")
        return view(request, *args, **kwargs)

    return wrapper
