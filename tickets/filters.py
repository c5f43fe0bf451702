"""The desk's request lists: which requests, in which order; and "My activities".

Every choice an agent is offered (queues, stages, teams, owners) is limited to what they
can see, and the list itself always starts from tickets.access.visible_tickets (the
activities from visible_activities).
"""

from datetime import datetime, time
from functools import cache, partial

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import connection
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import QueryDict
from django.utils import timezone
from django_filters import (
    BooleanFilter,
    CharFilter,
    ChoiceFilter,
    DateFilter,
    FilterSet,
    ModelChoiceFilter,
)
from mptt.forms import TreeNodeChoiceField

from tickets import search
from tickets.access import queues_for, sees_everything
from tickets.models import Activity, Category, Channel, Priority, Stage, Status, Tag, Ticket

# Columns a list can be sorted by: the `sort=` value → the fields it orders by.
SORTS = {
    "number": ("number",),
    "subject": ("subject",),
    "contact": ("contact__name", "contact__email"),
    "queue": ("queue__name",),
    "stage": ("stage__state", "stage__position"),
    "status": ("status__name",),
    "priority": ("priority__rank",),
    "owner": ("owner__first_name", "owner__last_name", "owner__username"),
    "deadline": ("deadline",),
    "created": ("created_at",),
    "updated": ("updated_at",),
}
DEFAULT_SORT = "-created"
# Columns that can be empty; they sort empty-last. The others sort plainly, so PostgreSQL
# can walk an index (NULLS LAST on a NOT NULL column would stop it from using one).
NULLABLE_SORTS = {"contact", "owner", "deadline"}

# Sorts an index serves at any size. The others (by name, stage, priority...) sort the
# newest SORTED_LIMIT matching requests: sorting all of a million by contact name took a
# second per page, and a list that long is narrowed before it is read in such an order.
INDEXED_SORTS = {"number", "deadline", "created", "updated"}
SORTED_LIMIT = 10_000

# Shown only when someone asks for them by status: they are out of everyday work.
HIDDEN_BY_DEFAULT = (Status.Base.DELETED, Status.Base.MERGED)
OPEN_BASES = (Status.Base.ACTIVE, Status.Base.POSTPONED)


def agents_for(user: AbstractBaseUser) -> QuerySet:
    """The agents working at least one of the user's queues: whom they can assign to."""
    agents = get_user_model().objects.filter(is_active=True)
    if sees_everything(user):
        agents = agents.filter(Q(is_staff=True) | Q(contact__isnull=True))
    else:
        queues = queues_for(user).values("pk")
        agents = agents.filter(
            Q(member_queues__in=queues) | Q(groups__member_queues__in=queues)
        ).distinct()
    return agents.order_by("first_name", "last_name", "username")


def teams_for(user: AbstractBaseUser) -> QuerySet[Group]:
    """The user's own teams and those working one of their queues."""
    if sees_everything(user):
        return Group.objects.order_by("name")
    queues = queues_for(user).values("pk")
    return (
        Group.objects.filter(Q(member_queues__in=queues) | Q(user=user)).distinct().order_by("name")
    )


def agent_label(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.get_username()


def ordering_for(sort: str | None) -> list:
    """The order_by() arguments for a `sort=` value; an unknown one means newest first.
    Empty values go last both ways, so "deadline" starts with the nearest deadline."""
    sort = sort or DEFAULT_SORT
    descending = sort.startswith("-")
    fields = SORTS.get(sort.removeprefix("-"))
    if fields is None:
        return ordering_for(DEFAULT_SORT)
    if sort.removeprefix("-") in NULLABLE_SORTS:
        order = [
            F(f).desc(nulls_last=True) if descending else F(f).asc(nulls_last=True) for f in fields
        ]
    else:
        order = [f"-{f}" if descending else f for f in fields]
    # A unique last key keeps pages stable when many rows share a value.
    return [*order, "-pk" if descending else "pk"]


def newest(tickets: QuerySet[Ticket], limit: int) -> QuerySet[Ticket]:
    """The newest `limit` of `tickets`, ready to be ordered otherwise."""
    ids = tickets.order_by("-created_at", "-pk").values("pk")[:limit]
    if connection.vendor == "postgresql":
        # id = ANY(ARRAY(...)): the ids are found once, then read by primary key. With
        # IN (...) PostgreSQL hashed them and read the whole table past them (0.25 s).
        sql, params = ids.query.sql_with_params()
        # The ORM's own SQL for `ids`, its values as parameters.
        among = RawSQL(f'"tickets_ticket"."id" = ANY(ARRAY({sql}))', params, BooleanField())  # nosec
        return Ticket.objects.filter(among)
    return Ticket.objects.filter(pk__in=ids)


class CategoryChoiceField(TreeNodeChoiceField):
    def label_from_instance(self, obj):
        # Category.__str__ walks its ancestors (a query each); the tree's level is enough.
        return f"{'— ' * obj.level}{obj.name}"


class CategoryFilter(ModelChoiceFilter):
    field_class = CategoryChoiceField


def _checkbox() -> forms.CheckboxInput:
    # value="1" so a ticked box gives the same ?open=1 the navigation links use.
    return forms.CheckboxInput(attrs={"value": "1"})


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _visible_queues(request):
    return queues_for(request.user)


def _visible_stages(request):
    return Stage.objects.filter(queue__in=queues_for(request.user).values("pk")).select_related(
        "queue"
    )


def _visible_teams(request):
    return teams_for(request.user)


def _owner_choices(user: AbstractBaseUser) -> list[tuple[str, str]]:
    agents = [(str(a.pk), agent_label(a)) for a in agents_for(user)]
    return [("me", "Me"), ("nobody", "Nobody"), *agents]


class TicketFilter(FilterSet):
    """Filters of the request list. Pass request= so the choices fit the agent."""

    q = CharFilter(method="filter_words", label="Words", max_length=search.MAX_QUERY_LENGTH)
    queue = ModelChoiceFilter(queryset=_visible_queues, empty_label="Any queue")
    stage = ModelChoiceFilter(queryset=_visible_stages, empty_label="Any stage")
    status = ModelChoiceFilter(queryset=Status.objects.all(), empty_label="Any status")
    base_status = ChoiceFilter(
        choices=Status.Base.choices,
        label="Status group",
        empty_label="Any",
        help_text="Deleted and merged ones only when picked.",
    )
    open = BooleanFilter(method="filter_open", widget=_checkbox(), label="Open only")
    owner = ChoiceFilter(method="filter_owner", empty_label="Anyone")
    team = ModelChoiceFilter(queryset=_visible_teams, empty_label="Any team")
    priority = ModelChoiceFilter(queryset=Priority.objects.all(), empty_label="Any priority")
    category = CategoryFilter(
        queryset=Category.objects.all(),
        method="filter_category",
        empty_label="Any category",
        help_text="Includes its subcategories.",
    )
    tag = ModelChoiceFilter(
        queryset=Tag.objects.all(),
        field_name="tags",
        to_field_name="name",
        label="Tag",
        empty_label="Any tag",
    )
    channel = ChoiceFilter(choices=Channel.choices, empty_label="Any channel")
    contact = CharFilter(method="filter_contact", help_text="Name or email")
    company = CharFilter(method="filter_company", label="Company", help_text="Name")
    created_after = DateFilter(
        field_name="created_at", lookup_expr="date__gte", widget=_date(), label="Created from"
    )
    created_before = DateFilter(
        field_name="created_at", lookup_expr="date__lte", widget=_date(), label="Created until"
    )
    deadline_after = DateFilter(
        field_name="deadline", lookup_expr="date__gte", widget=_date(), label="Deadline from"
    )
    deadline_before = DateFilter(
        field_name="deadline", lookup_expr="date__lte", widget=_date(), label="Deadline until"
    )
    overdue = BooleanFilter(method="filter_overdue", widget=_checkbox(), label="Overdue")
    unread = BooleanFilter(method="filter_unread", widget=_checkbox(), label="Unread")
    # Not a filter: kept in the form so applying filters keeps the chosen order.
    sort = CharFilter(method="keep_all", widget=forms.HiddenInput)

    class Meta:
        model = Ticket
        fields = []

    def __init__(self, data=None, queryset=None, *, request, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        # Read when the form is drawn or an owner is chosen (once for both), not for every
        # list: a query and a third of the API's filtered list.
        self.filters["owner"].extra["choices"] = cache(partial(_owner_choices, request.user))

    @property
    def sort_key(self) -> str:
        """The list's `sort=` value, or the default when it names no column."""
        value = self.data.get("sort") or DEFAULT_SORT
        return value if value.removeprefix("-") in SORTS else DEFAULT_SORT

    def filter_queryset(self, queryset):
        chosen = self.form.cleaned_data
        if not chosen.get("status") and not chosen.get("base_status"):
            queryset = queryset.exclude(base_status__in=HIDDEN_BY_DEFAULT)
        queryset = super().filter_queryset(queryset)
        if self.ranks_by_relevance:
            return search.ranked(queryset, chosen["q"])
        if self.sort_key.removeprefix("-") not in INDEXED_SORTS:
            queryset = newest(queryset, SORTED_LIMIT)
        return queryset.order_by(*ordering_for(self.sort_key))

    @property
    def sorts_newest_only(self) -> bool:
        """The chosen order is applied to the newest SORTED_LIMIT requests only."""
        return not self.ranks_by_relevance and (
            self.sort_key.removeprefix("-") not in INDEXED_SORTS
        )

    @property
    def ranks_by_relevance(self) -> bool:
        """Words searched for and no column chosen: best matches first."""
        chosen = getattr(self.form, "cleaned_data", {})
        return bool(chosen.get("q") and not self.data.get("sort"))

    def keep_all(self, queryset, name, value):
        return queryset

    def filter_words(self, queryset, name, value):
        return search.matching(queryset, value)

    def filter_open(self, queryset, name, value):
        return queryset.filter(base_status__in=OPEN_BASES) if value else queryset

    def filter_owner(self, queryset, name, value):
        if value == "me":
            return queryset.filter(owner=self.request.user)
        if value == "nobody":
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner_id=value)

    def filter_category(self, queryset, name, value):
        return queryset.filter(category__in=value.get_descendants(include_self=True))

    def filter_contact(self, queryset, name, value):
        value = value.strip()
        if value.isdigit():
            return queryset.filter(contact_id=value)
        return queryset.filter(
            Q(contact__name__icontains=value) | Q(contact__email__icontains=value)
        )

    def filter_company(self, queryset, name, value):
        value = value.strip()
        if value.isdigit():
            return queryset.filter(contact__company_id=value)
        return queryset.filter(contact__company__name__icontains=value)

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.overdue(timezone.now())

    def filter_unread(self, queryset, name, value):
        return queryset.filter(is_unread=True) if value else queryset


class ActivityFilter(FilterSet):
    """Filters of "My activities". Without a state chosen it shows the open ones."""

    ANY_STATE = "any"

    state = ChoiceFilter(
        choices=[*Activity.State.choices, (ANY_STATE, "Any state")],
        method="filter_state",
        empty_label=None,
    )
    due_before = DateFilter(method="filter_due_before", widget=_date(), label="Due before")
    queue = ModelChoiceFilter(
        queryset=_visible_queues, field_name="ticket__queue", label="Queue", empty_label="Any queue"
    )

    class Meta:
        model = Activity
        fields = []

    def __init__(self, data=None, queryset=None, *, request, **kwargs):
        data = data.copy() if data is not None else QueryDict(mutable=True)
        data.setdefault("state", Activity.State.OPEN)
        super().__init__(data, queryset, request=request, **kwargs)

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset).order_by(F("due_at").asc(nulls_last=True), "pk")

    def filter_state(self, queryset, name, value):
        return queryset if value == self.ANY_STATE else queryset.filter(state=value)

    def filter_due_before(self, queryset, name, value):
        # From the local midnight that starts the day, on the column itself: a date
        # taken of the column would keep the index from serving the range.
        start = timezone.make_aware(datetime.combine(value, time.min))
        return queryset.filter(due_at__lt=start)


# Filters other apps add to the request list (billing: the affected service), shown
# under "More" after the desk's own and taken by the API's list too.
EXTRA_FILTERS: list[str] = []


def add_list_filter(name: str, list_filter) -> None:
    """Call from an AppConfig.ready(): tickets itself knows nothing of the filter."""
    TicketFilter.base_filters[name] = list_filter
    if name not in EXTRA_FILTERS:
        EXTRA_FILTERS.append(name)
