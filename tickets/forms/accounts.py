"""The desk's sign-in form."""

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from tickets.access import is_agent


class AgentAuthenticationForm(AuthenticationForm):
    """The desk's sign-in refuses customers' portal logins: each side signs in on its own
    page, so a customer never lands on the agents' login by mistake and gets in."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not is_agent(user):
            raise ValidationError(
                "This sign-in is for agents. Customers sign in on the portal at /portal/.",
                code="not_agent",
            )
