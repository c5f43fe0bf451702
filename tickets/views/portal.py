"""The customer portal under /portal/: contacts follow and open their own requests.

Every page is the same short path as the desk's: the request through tickets.access
(404 for anything the contact may not follow) → a form → one call to tickets.customers or
tickets.workflow → a message → a redirect. Agents are refused here, as contacts are on
the desk: each side signs in on its own page.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.views import (
    PasswordChangeView,
    PasswordResetConfirmView,
    PasswordResetView,
    redirect_to_login,
)
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import TemplateView

from tickets import accounts, approvals, customers, workflow
from tickets.access import (
    contact_of,
    get_ticket_for_contact,
    is_agent,
    visible_tickets_for_contact,
)
from tickets.forms.portal import (
    NewRequestForm,
    PasswordResetForm,
    ProfileForm,
    ReplyForm,
    RequestFilterForm,
    SignInForm,
    SignInLinkForm,
    SignUpForm,
)
from tickets.models import Status, Ticket
from tickets.search import add_snippets, public_matching
from tickets.timeline import build_customer_timeline
from tickets.workflow import WorkflowError

PAGE_SIZE = 25


def contact_required(view):
    """Signed-in contacts only; `request.contact` is theirs. An agent's login does not open
    the portal."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:sign_in"))
        request.contact = contact_of(request.user)
        if request.contact is None:
            raise PermissionDenied("The portal is for customers; agents work on the desk.")
        return view(request, *args, **kwargs)

    return wrapper


def _back(ticket: Ticket):
    return redirect("portal:request", number=ticket.number)


# Signing in and out


def sign_in(request):
    form = SignInForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        # login() gives the session a new key, so a key planted before sign-in is useless.
        login(request, form.user)
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = reverse("portal:requests")
        return redirect(target)
    return render(
        request, "portal/sign_in.html", {"form": form, "next": request.GET.get("next", "")}
    )


@require_POST
def sign_out(request):
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("portal:sign_in")


# Accounts: sign-up, one-time links, password reset


def _user_from(uidb64: str):
    """The customer's login a mailed link names, or None (agents never)."""
    try:
        pk = urlsafe_base64_decode(uidb64).decode()
        user = get_user_model()._default_manager.get(pk=pk)
    except (ValueError, OverflowError, get_user_model().DoesNotExist):
        return None
    return None if is_agent(user) and user.is_active else user


def sign_up(request):
    form = SignUpForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        accounts.sign_up(email=data["email"], name=data["name"], password=data["password1"])
        return render(request, "portal/check_inbox.html", {"email": data["email"]})
    return render(request, "portal/sign_up.html", {"form": form})


@require_GET
def verify(request, uidb64, token):
    user = _user_from(uidb64)
    if user is None or not hasattr(user, "contact"):
        return render(request, "portal/link_invalid.html", status=400)
    if not accounts.verify(user, token):
        if user.is_active:  # followed twice, or a mail scanner got there first
            messages.info(request, "Your address is confirmed already: sign in.")
            return redirect("portal:sign_in")
        return render(request, "portal/link_invalid.html", status=400)
    login(request, user)
    messages.success(request, "Your address is confirmed. Welcome!")
    return redirect("portal:requests")


class SetPasswordView(PasswordResetConfirmView):
    """An invitation's or a reset's one-time link: choose a password, then you are in."""

    template_name = "portal/set_password.html"
    token_generator = accounts.password_token
    post_reset_login = True
    success_url = reverse_lazy("portal:requests")

    def get_user(self, uidb64):
        return _user_from(uidb64)

    def form_valid(self, form):
        messages.success(self.request, "Your password is set. Welcome!")
        return super().form_valid(form)


class ResetPasswordView(PasswordResetView):
    form_class = PasswordResetForm
    template_name = "portal/password_reset.html"
    email_template_name = "emails/portal_password_reset.txt"
    subject_template_name = "emails/portal_password_reset_subject.txt"
    token_generator = accounts.password_token
    success_url = reverse_lazy("portal:password_reset_sent")

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"request": self.request}

    @property
    def extra_email_context(self):
        # Links in mail point at the public address, not whatever Host the request had.
        return {"site_url": settings.SITE_URL}


def sign_in_link(request):
    form = SignInLinkForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        accounts.send_sign_in_link(form.cleaned_data["email"])
        return render(request, "portal/check_inbox.html", {"email": form.cleaned_data["email"]})
    return render(request, "portal/sign_in_link.html", {"form": form})


def sign_in_link_confirm(request, uidb64, token):
    """GET only shows a button: mail scanners follow links, and must not spend this one."""
    user = _user_from(uidb64)
    if user is None or not user.is_active or not accounts.sign_in_token.check_token(user, token):
        return render(request, "portal/link_invalid.html", status=400)
    if request.method == "POST":
        login(request, user)
        return redirect("portal:requests")
    return render(request, "portal/sign_in_link_confirm.html", {"user": user})


# Requests


def _open_first(tickets):
    return tickets.annotate(
        closed_last=Case(
            When(base_status__in=[Status.Base.ACTIVE, Status.Base.POSTPONED], then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("closed_last", "-updated_at", "-pk")


def _filtered(tickets, form: RequestFilterForm):
    if not form.is_valid():
        return tickets
    state, text = form.cleaned_data["state"], form.cleaned_data["q"].strip()
    if state == "open":
        tickets = tickets.open()
    elif state == "closed":
        tickets = tickets.exclude(base_status__in=[Status.Base.ACTIVE, Status.Base.POSTPONED])
    if text:
        tickets = public_matching(tickets, text)
    return tickets


@contact_required
@require_GET
def request_list(request, company=False):
    contact = request.contact
    tickets = visible_tickets_for_contact(contact)
    if company:
        if not (contact.can_see_company_requests and contact.company_id):
            raise Http404("No company requests to show.")
    else:
        tickets = tickets.filter(contact=contact)
    form = RequestFilterForm(request.GET)
    tickets = _open_first(_filtered(tickets, form)).select_related("status", "stage", "contact")
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    if form.is_valid():
        page.object_list = list(page.object_list)
        add_snippets(page.object_list, form.cleaned_data["q"], public_only=True)
    context = {
        "form": form,
        "page": page,
        "company": company,
        "contact": contact,
        "nav": "company" if company else "mine",
    }
    if request.headers.get("HX-Request"):
        return render(request, "portal/_results.html", context)
    return render(request, "portal/requests.html", context)


def _render_request(request, ticket: Ticket, reply_form=None):
    stages = list(ticket.queue.stages.all())
    position = next((i for i, s in enumerate(stages) if s.pk == ticket.stage_id), -1)
    progress = [
        (stage, "done" if i < position else "current" if i == position else "todo")
        for i, stage in enumerate(stages)
    ]
    context = {
        "ticket": ticket,
        "stage_progress": progress,
        "timeline": build_customer_timeline(ticket, request.contact),
        "reply_form": reply_form or ReplyForm(),
        "can_write": ticket.is_open,
        "approvals": list(ticket.approvals.for_customer().select_related("stage")),
    }
    return render(request, "portal/request.html", context)


@contact_required
@require_GET
def request_page(request, number):
    ticket = get_ticket_for_contact(request.contact, number)
    return _render_request(request, ticket)


@contact_required
@require_POST
def reply(request, number):
    ticket = get_ticket_for_contact(request.contact, number)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            customers.write_message(
                ticket,
                contact=request.contact,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except WorkflowError as error:
            form.add_error("body", str(error))
        else:
            messages.success(request, "Your message is added to the request.")
            return _back(ticket)
    ticket = get_ticket_for_contact(request.contact, number)
    return _render_request(request, ticket, form)


@contact_required
@require_POST
def close(request, number):
    ticket = get_ticket_for_contact(request.contact, number)
    try:
        customers.close_request(ticket, contact=request.contact)
    except WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{ticket.number} is closed. Thank you!")
    return _back(ticket)


@contact_required
@require_POST
def decide(request, number, pk):
    ticket = get_ticket_for_contact(request.contact, number)
    approval = get_object_or_404(ticket.approvals.for_customer(), pk=pk)
    _decide(request, approval, request.POST.get("decision"))
    return _back(ticket)


def _decide(request, approval, decision: str | None) -> None:
    if decision not in ("approve", "refuse"):
        messages.error(request, "Approve or refuse.")
        return
    try:
        workflow.decide_approval(
            approval, approved=decision == "approve", by=approval.ticket.contact.user
        )
    except WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Thank you: your answer is recorded.")


def approval_link(request, token):
    """The mailed link: the link is the credential, so no sign-in is needed. GET only shows
    the question (mail scanners follow links); the answer is a POST, accepted once."""
    approval = approvals.approval_for_token(token)
    if approval is None:
        return render(request, "portal/link_invalid.html", status=400)
    if request.method == "POST":
        _decide(request, approval, request.POST.get("decision"))
        return redirect("portal:approval_link", token=token)
    return render(request, "portal/approval.html", {"approval": approval})


@contact_required
def new_request(request):
    form = NewRequestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = customers.open_request(
                contact=request.contact,
                queue=data["queue"],
                subject=data["subject"],
                body=data["body"],
                category=data["category"],
                attachments=data["attachments"],
            )
        except WorkflowError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Thank you: your request is {ticket.number}.")
            return _back(ticket)
    return render(request, "portal/new_request.html", {"form": form})


# The contact's own account


@contact_required
def profile(request):
    contact = request.contact
    initial = {"name": contact.name, "phone": contact.phone}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        customers.update_profile(contact, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("portal:profile")
    context = {"form": form, "contact": contact, "nav": "profile"}
    return render(request, "portal/profile.html", context)


class PortalPasswordChangeView(PasswordChangeView):
    template_name = "portal/password_change.html"
    success_url = reverse_lazy("portal:profile")

    def form_valid(self, form):
        messages.success(self.request, "Your password is changed.")
        return super().form_valid(form)


password_change = contact_required(PortalPasswordChangeView.as_view())


app_name = "portal"

urlpatterns = [
    path("", lambda request: redirect("portal:requests"), name="home"),
    path("sign-in/", sign_in, name="sign_in"),
    path("sign-out/", sign_out, name="sign_out"),
    path("sign-up/", sign_up, name="sign_up"),
    path("verify/<uidb64>/<token>/", verify, name="verify"),
    path("set-password/<uidb64>/<token>/", SetPasswordView.as_view(), name="set_password"),
    path("password-reset/", ResetPasswordView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        TemplateView.as_view(template_name="portal/check_inbox.html"),
        name="password_reset_sent",
    ),
    path("sign-in/link/", sign_in_link, name="sign_in_link"),
    path("sign-in/link/<uidb64>/<token>/", sign_in_link_confirm, name="sign_in_link_confirm"),
    path("requests/", request_list, name="requests"),
    path("requests/company/", request_list, {"company": True}, name="company_requests"),
    path("requests/new/", new_request, name="new_request"),
    path("requests/<str:number>/", request_page, name="request"),
    path("requests/<str:number>/reply/", reply, name="reply"),
    path("requests/<str:number>/close/", close, name="close"),
    path("requests/<str:number>/approvals/<int:pk>/", decide, name="decide"),
    path("approvals/<str:token>/", approval_link, name="approval_link"),
    path("profile/", profile, name="profile"),
    path("profile/password/", password_change, name="password_change"),
]
