"""Registering a request at the desk: a phone call, an email to a contact, an internal one."""

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import path

from tickets import workflow
from tickets.access import queues_for
from tickets.forms.create import NewRequestForm
from tickets.models import Contact, Ticket
from tickets.views.desk import agent_required

# Enough to find someone by a few letters; the box is for picking, not browsing.
LOOKUP_LIMIT = 12


@transaction.atomic
def _register(form: NewRequestForm, *, by) -> Ticket:
    """The new contact (if any) and the request are saved together: when the workflow
    refuses the request, no contact is left behind."""
    data = form.cleaned_data
    contact = form.new_contact.save() if form.creates_contact else data["contact"]
    return workflow.create_ticket(by=by, **form.request_fields(contact))


def _contact(pk: str | None) -> Contact | None:
    if not (pk or "").isdigit():
        return None
    return Contact.objects.select_related("company").filter(pk=pk).first()


def _initial(request) -> dict:
    initial = {}
    contact = _contact(request.GET.get("contact"))
    if contact is not None:
        initial["contact"] = contact
    queues = list(queues_for(request.user)[:2])
    if len(queues) == 1:
        initial["queue"] = queues[0]
    return initial


@agent_required
def new_request(request):
    if request.method == "POST":
        form = NewRequestForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            try:
                ticket = _register(form, by=request.user)
            except workflow.WorkflowError as error:
                form.add_error(None, str(error))
            except IntegrityError:
                if not form.creates_contact:
                    raise
                # Someone saved the same address between our check and our insert.
                form.new_contact.add_error("email", "A contact with this address now exists.")
            else:
                messages.success(request, f"Request {ticket.number} registered.")
                return redirect(f"/desk/requests/{ticket.number}/")
    else:
        form = NewRequestForm(initial=_initial(request), user=request.user)
    picked = form.cleaned_data.get("contact") if form.is_bound else form["contact"].initial
    return render(
        request,
        "desk/create/new_request.html",
        {"form": form, "picked": picked, "nav": "new"},
    )


@agent_required
def contact_lookup(request):
    """Contacts matching a few typed letters of a name, an address or a phone number."""
    # The new-request form's search box sends its own field name.
    query = (request.GET.get("q") or request.GET.get("contact_query") or "").strip()
    contacts = []
    if len(query) >= 2:
        contacts = (
            Contact.objects.filter(
                Q(name__icontains=query) | Q(email__icontains=query) | Q(phone__icontains=query)
            )
            .select_related("company")
            .order_by("name", "email")[:LOOKUP_LIMIT]
        )
    return render(
        request, "desk/create/_contact_results.html", {"contacts": contacts, "query": query}
    )


@agent_required
def contact_pick(request):
    """The contact box of the new-request form with a contact picked (or, without one,
    the search again), swapped in by htmx."""
    form = NewRequestForm(user=request.user)
    picked = _contact(request.GET.get("contact"))
    return render(request, "desk/create/_contact_picker.html", {"form": form, "picked": picked})


urlpatterns = [
    path("requests/new/", new_request, name="new_request"),
    path("contacts/lookup/", contact_lookup, name="contact_lookup"),
    path("contacts/pick/", contact_pick, name="contact_pick"),
]
