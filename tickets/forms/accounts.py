"""The desk's and the admin's sign-in forms."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from tickets import ratelimit
from tickets.access import is_agent


class RateLimitedSignIn:
    """Failed sign-ins are counted per username and per client address, as the portal
    counts them; past the limit every attempt is refused for a while, the right password
    too, so guessing cannot go on."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = ratelimit.client_ip(self.request)
        if ratelimit.is_limited("agent_sign_in", username) or ratelimit.is_limited(
            "sign_in_ip", ip
        ):
            raise ValidationError(
                f"Too many failed sign-ins. Wait {ratelimit.minutes('agent_sign_in')} minutes "
                "and try again, or ask an administrator to reset your password.",
                code="rate_limited",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            ratelimit.hit("agent_sign_in", username)
            ratelimit.hit("sign_in_ip", ip)
            raise
        ratelimit.reset("agent_sign_in", username)
        return cleaned


class AgentAuthenticationForm(RateLimitedSignIn, AuthenticationForm):
    """The desk's sign-in refuses customers' portal logins: each side signs in on its own
    page, so a customer never lands on the agents' login by mistake and gets in."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not is_agent(user):
            raise ValidationError(
                "This sign-in is for agents. Customers sign in on the portal at /portal/.",
                code="not_agent",
            )


class AdminSignInForm(RateLimitedSignIn, AdminAuthenticationForm):
    """The admin's sign-in, limited like the desk's."""
