"""Contacts and companies: who the requests are for, and everything else they asked."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from tickets import accounts
from tickets.access import visible_tickets
from tickets.forms.people import CompanyForm, ContactForm
from tickets.models import Company, Contact, Status, Ticket
from tickets.views.desk import agent_required

PER_PAGE = 25
OPEN = [Status.Base.ACTIVE, Status.Base.POSTPONED]


def _open_first(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return (
        tickets.select_related("queue", "status", "priority", "owner", "contact")
        .annotate(closed_last=Case(When(base_status__in=OPEN, then=Value(0)), default=Value(1)))
        .order_by("closed_last", "-created_at")
    )


def _open_requests_seen_by(user, relation: str) -> Count:
    """Open requests counted per row, only those in the agent's queues: a count must not
    reveal requests the agent may not open."""
    visible = visible_tickets(user).open().values("pk")
    return Count(relation, filter=Q(**{f"{relation}__in": visible}), distinct=True)


def _posted(request):
    return request.POST if request.method == "POST" else None


def _page(request, items):
    return Paginator(items, PER_PAGE).get_page(request.GET.get("page"))


def _list_template(request, page: str, table: str) -> str:
    """The table alone for htmx's search-as-you-type, the whole page otherwise."""
    partial = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
    return f"desk/people/{table}.html" if partial else f"desk/people/{page}.html"


@agent_required
def contacts(request):
    query = request.GET.get("q", "").strip()
    found = Contact.objects.select_related("company").annotate(
        open_requests=_open_requests_seen_by(request.user, "tickets")
    )
    if query:
        found = found.matching(query)
    page = _page(request, found.order_by("name", "email", "pk"))
    context = {"page": page, "query": query, "nav": "contacts"}
    return render(request, _list_template(request, "contacts", "_contact_table"), context)


@agent_required
def contact(request, pk: int):
    person = get_object_or_404(Contact.objects.select_related("company"), pk=pk)
    tickets = _open_first(visible_tickets(request.user).filter(contact=person))
    context = {"contact": person, "page": _page(request, tickets), "nav": "contacts"}
    return render(request, "desk/people/contact.html", context)


def _contact_form_page(request, form, person=None):
    return render(
        request,
        "desk/people/contact_form.html",
        {"form": form, "contact": person, "nav": "contacts"},
    )


@agent_required
def contact_new(request):
    form = ContactForm(_posted(request), initial={"company": request.GET.get("company")})
    if form.is_valid():
        person = form.save()
        messages.success(request, f"Contact {person} added.")
        return redirect("desk:contact", pk=person.pk)
    return _contact_form_page(request, form)


@agent_required
def contact_edit(request, pk: int):
    person = get_object_or_404(Contact, pk=pk)
    form = ContactForm(_posted(request), instance=person)
    if form.is_valid():
        form.save()
        messages.success(request, f"Contact {person} saved.")
        return redirect("desk:contact", pk=person.pk)
    return _contact_form_page(request, form, person)


@agent_required
@require_POST
def contact_invite(request, pk: int):
    """Mail the contact a one-time link to set a portal password."""
    person = get_object_or_404(Contact, pk=pk)
    with transaction.atomic():
        try:
            accounts.invite_contact(person)
        except ValueError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{person.email} is invited to the portal.")
    return redirect("desk:contact", pk=person.pk)


@agent_required
def companies(request):
    query = request.GET.get("q", "").strip()
    found = Company.objects.annotate(
        contact_count=Count("contacts", distinct=True),
        open_requests=_open_requests_seen_by(request.user, "contacts__tickets"),
    )
    if query:
        found = found.matching(query)
    page = _page(request, found.order_by("name", "pk"))
    context = {"page": page, "query": query, "nav": "companies"}
    return render(request, _list_template(request, "companies", "_company_table"), context)


@agent_required
def company(request, pk: int):
    firm = get_object_or_404(Company, pk=pk)
    people = firm.contacts.annotate(
        open_requests=_open_requests_seen_by(request.user, "tickets")
    ).order_by("name", "email")
    tickets = _open_first(visible_tickets(request.user).of_company(firm))
    context = {
        "company": firm,
        "contacts": people,
        "page": _page(request, tickets),
        "nav": "companies",
    }
    return render(request, "desk/people/company.html", context)


def _company_form_page(request, form, firm=None):
    return render(
        request,
        "desk/people/company_form.html",
        {"form": form, "company": firm, "nav": "companies"},
    )


@agent_required
def company_new(request):
    form = CompanyForm(_posted(request))
    if form.is_valid():
        firm = form.save()
        messages.success(request, f"Company {firm} added.")
        return redirect("desk:company", pk=firm.pk)
    return _company_form_page(request, form)


@agent_required
def company_edit(request, pk: int):
    firm = get_object_or_404(Company, pk=pk)
    form = CompanyForm(_posted(request), instance=firm)
    if form.is_valid():
        form.save()
        messages.success(request, f"Company {firm} saved.")
        return redirect("desk:company", pk=firm.pk)
    return _company_form_page(request, form, firm)


urlpatterns = [
    path("contacts/", contacts, name="contacts"),
    path("contacts/new/", contact_new, name="contact_new"),
    path("contacts/<int:pk>/", contact, name="contact"),
    path("contacts/<int:pk>/edit/", contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/invite/", contact_invite, name="contact_invite"),
    path("companies/", companies, name="companies"),
    path("companies/new/", company_new, name="company_new"),
    path("companies/<int:pk>/", company, name="company"),
    path("companies/<int:pk>/edit/", company_edit, name="company_edit"),
]
