from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from tickets.models import (
    Category,
    Contact,
    Event,
    Message,
    PriorityRule,
    Queue,
    Stage,
    Status,
    Tag,
    Ticket,
)

pytestmark = pytest.mark.django_db

User = get_user_model()

MODELS = [User, Group, Contact, Queue, Stage, Category, Tag, Status, PriorityRule, Ticket]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The real hasher takes ~0.4 s per password; these tests hash a dozen.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in [*MODELS, Message, Event]}


def test_it_creates_the_demo():
    output = seed()

    assert Queue.objects.count() == 3
    assert Queue.objects.filter(name="Support").exists()
    assert Ticket.objects.count() >= 45
    assert Contact.objects.count() >= 10
    assert output.startswith("demo data: 3 queues, ")
    for username in ["admin", "alice", "bob", "carol"]:
        assert f"{username} / demo" in output


def test_requests_cover_every_status_and_stage():
    seed()

    bases = set(Ticket.objects.values_list("base_status", flat=True))
    assert bases == set(Status.Base.values)
    names = set(Ticket.objects.values_list("status__name", flat=True))
    assert {"Waiting for customer", "Waiting for supplier", "In review"} <= names
    assert Stage.objects.count() == 5 + 4 + 5
    assert not Stage.objects.filter(tickets__isnull=True).exists()
    closed = Ticket.objects.filter(base_status=Status.Base.CLOSED)
    assert set(closed.values_list("resolved", flat=True)) == {True, False}
    assert Ticket.objects.filter(related__isnull=False).exists()


def test_configuration_is_complete():
    seed()

    assert Category.objects.filter(level=2).exists()
    assert PriorityRule.objects.count() == 9
    assert PriorityRule.priority_for("medium", "medium").name == "Medium"
    assert PriorityRule.priority_for("high", "high").name == "Critical"
    assert PriorityRule.priority_for("low", "low").name == "Low"
    assert Queue.objects.filter(is_open_to_portal=True).count() == 1


def test_running_it_twice_creates_nothing_new():
    seed()
    before = counts()

    output = seed()

    assert counts() == before
    assert output.startswith("demo data: 0 queues, 0 requests, ")


def test_the_demo_users_can_sign_in():
    seed()

    for username in ["admin", "alice", "bob", "carol"]:
        assert authenticate(username=username, password="demo") is not None
    assert User.objects.get(username="admin").is_superuser
    bob = User.objects.get(username="bob")
    assert set(bob.groups.values_list("name", flat=True)) == {"Billing", "First line"}
    carol = Contact.objects.get(email__iexact="carol@northwind.example")
    assert carol.user.username == "carol"


def test_an_existing_user_keeps_their_password():
    User.objects.create_user("admin", password="secret")

    output = seed()

    assert authenticate(username="admin", password="secret") is not None
    assert "admin / (existing user, password unchanged)" in output
