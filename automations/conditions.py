"""Whether a rule's conditions hold for a request, judged from what is loaded already.

`Facts` is what a trigger tells about one request: its row (with the rows it points at),
its tags, and what the change that fired the trigger changed. Conditions compare the ids
their foreign keys hold with the request's, so judging a hundred rules runs no query
beyond building the facts once (the message text is read when a condition asks for it).
"""

from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Exists, OuterRef, Q

from automations.models import Condition, Rule
from tickets.models import DomainEvent, Message, Ticket

F = Condition.Field
Op = Condition.Operator

# The condition field's foreign key on the condition, and the request's id for it.
RELATIONS = {
    F.QUEUE: "queue",
    F.STAGE: "stage",
    F.STATUS: "status",
    F.PRIORITY: "priority",
    F.CATEGORY: "category",
    F.TAGS: "tag",
    F.COMPANY: "company",
    F.OWNER: "user",
    F.TEAM: "team",
}
# Which operators each kind of field takes.
ON_ROWS = {Op.IS, Op.IS_NOT, Op.IS_EMPTY, Op.IS_SET, Op.CHANGED, Op.CHANGED_FROM, Op.CHANGED_TO}
ON_TAGS = {Op.CONTAINS, Op.NOT_CONTAINS, Op.IS_EMPTY, Op.IS_SET, Op.CHANGED_TO, Op.CHANGED_FROM}
ON_TEXT = {Op.IS, Op.IS_NOT, Op.ONE_OF, Op.CONTAINS, Op.NOT_CONTAINS, Op.IS_EMPTY, Op.IS_SET}
CHANGE_OPERATORS = {Op.CHANGED, Op.CHANGED_FROM, Op.CHANGED_TO}
# The request's fields whose changes the domain events tell, by condition field.
CHANGED_FIELD = {
    F.QUEUE: "queue",
    F.STAGE: "stage",
    F.STATUS: "status",
    F.PRIORITY: "priority",
    F.CATEGORY: "category",
    F.TAGS: "tags",
    F.OWNER: "owner",
    F.TEAM: "team",
    F.SUBJECT: "subject",
    F.CUSTOM_FIELD: "custom_fields",
}
# What judging reads of the rows a request points at (the rest are compared by id). More
# joins cost PostgreSQL more planning than the rows they would save (6 ms at seven).
TICKET_RELATIONS = ("category", "contact")


def operators_for(field_name: str) -> set[str]:
    if field_name == F.TAGS:
        return ON_TAGS
    if field_name in RELATIONS:
        return ON_ROWS
    text = set(ON_TEXT)
    if field_name in CHANGED_FIELD:
        text |= CHANGE_OPERATORS
    return text


def problem(condition: Condition) -> str:
    """Why this condition cannot be judged ("" when it can): the row it named is gone, or
    it asks what its field cannot answer."""
    if condition.operator not in operators_for(condition.field):
        label = condition.get_field_display().lower()
        return f"“{condition.get_operator_display()}” does not apply to the {label}."
    needs_row = condition.operator not in (Op.IS_EMPTY, Op.IS_SET, Op.CHANGED)
    relation = RELATIONS.get(condition.field)
    if relation and needs_row and getattr(condition, f"{relation}_id") is None:
        label = condition.get_field_display().split(" (")[0].lower()
        return f"The {label} it compares with no longer exists."
    if condition.field == F.CUSTOM_FIELD and condition.custom_field_id is None:
        return "The custom field it reads no longer exists."
    return ""


@dataclass
class Facts:
    """What the rules are judged on: one request and the change that fired the trigger."""

    ticket: Ticket
    tag_ids: set[int]
    tag_names: list[str]
    # field → [old, new] as the domain event told them (rows by id)
    changes: dict[str, list] = field(default_factory=dict)
    message_pk: int | None = None
    trigger: str = ""

    @classmethod
    def load(cls, ticket_pk: int, domain_event: DomainEvent | None = None) -> "Facts | None":
        ticket = (
            Ticket.objects.select_related(*TICKET_RELATIONS)
            .prefetch_related("tags")
            .filter(pk=ticket_pk)
            .first()
        )
        if ticket is None:
            return None
        return cls.of(ticket, domain_event)

    @classmethod
    def of(
        cls, ticket: Ticket, domain_event: DomainEvent | None = None, *, trigger: str = ""
    ) -> "Facts":
        tags = list(ticket.tags.all())
        payload = domain_event.payload if domain_event else {}
        changes = dict(payload.get("changes") or {})
        if payload.get("field"):
            changes[payload["field"]] = [payload.get("old"), payload.get("new")]
        return cls(
            ticket=ticket,
            tag_ids={tag.pk for tag in tags},
            tag_names=[tag.name for tag in tags],
            changes=changes,
            message_pk=payload.get("message"),
            trigger=domain_event.name if domain_event else trigger,
        )

    @cached_property
    def body(self) -> str:
        """The text of the message the trigger is about, else the request's latest one."""
        messages = Message.objects.filter(ticket=self.ticket)
        if self.message_pk:
            messages = messages.filter(pk=self.message_pk)
        return (
            messages.order_by("-created_at", "-pk").values_list("body_text", flat=True).first()
            or ""
        )

    def row_id(self, field_name: str) -> int | None:
        ticket = self.ticket
        match field_name:
            case F.COMPANY:
                return ticket.contact.company_id if ticket.contact else None
            case F.OWNER:
                return ticket.owner_id
            case _:
                return getattr(ticket, f"{field_name}_id")

    def text(self, condition: Condition) -> str:
        ticket = self.ticket
        match condition.field:
            case F.BASE_STATUS:
                return ticket.base_status
            case F.CHANNEL:
                return ticket.channel
            case F.CONTACT:
                return ticket.contact.email if ticket.contact else ""
            case F.SUBJECT:
                return ticket.subject
            case F.BODY:
                return self.body
            case F.CUSTOM_FIELD:
                value = ticket.custom_fields.get(condition.custom_field.key)
                return "" if value is None else str(value)
        raise ValueError(condition.field)


def holds(condition: Condition, facts: Facts) -> bool:
    if condition.operator in CHANGE_OPERATORS:
        return _changed(condition, facts)
    if condition.field == F.TAGS:
        return _tags(condition, facts)
    if condition.field in RELATIONS:
        return _row(condition, facts)
    return _text(condition, facts.text(condition))


def matches(rule: Rule, facts: Facts) -> list[Condition] | None:
    """The conditions that hold when the rule matches (all of them, or the first that does
    for an any-rule; none for a rule without conditions), else None."""
    conditions = rule.condition_list
    if not conditions:
        return []
    if rule.match_all:
        return conditions if all(holds(c, facts) for c in conditions) else None
    held = next((c for c in conditions if holds(c, facts)), None)
    return [held] if held else None


def _row(condition: Condition, facts: Facts) -> bool:
    actual = facts.row_id(condition.field)
    match condition.operator:
        case Op.IS_EMPTY:
            return actual is None
        case Op.IS_SET:
            return actual is not None
    if condition.field == F.CATEGORY:
        same = _in_subtree(facts.ticket.category, condition.category)
    else:
        same = actual == getattr(condition, f"{RELATIONS[condition.field]}_id")
    return same if condition.operator == Op.IS else not same


def _in_subtree(category, root) -> bool:
    """The request's category is `root` or below it (MPTT's numbers, no query)."""
    if category is None:
        return False
    return category.tree_id == root.tree_id and root.lft <= category.lft <= root.rght


def _tags(condition: Condition, facts: Facts) -> bool:
    match condition.operator:
        case Op.IS_EMPTY:
            return not facts.tag_ids
        case Op.IS_SET:
            return bool(facts.tag_ids)
        case Op.CONTAINS:
            return condition.tag_id in facts.tag_ids
        case Op.NOT_CONTAINS:
            return condition.tag_id not in facts.tag_ids
    return False


def _text(condition: Condition, actual: str) -> bool:
    actual, wanted = actual.casefold(), condition.value.strip().casefold()
    match condition.operator:
        case Op.IS:
            return actual == wanted
        case Op.IS_NOT:
            return actual != wanted
        case Op.ONE_OF:
            return actual in {part.strip() for part in wanted.split(",")}
        case Op.CONTAINS:
            return wanted in actual
        case Op.NOT_CONTAINS:
            return wanted not in actual
        case Op.IS_EMPTY:
            return not actual
        case Op.IS_SET:
            return bool(actual)
    return False


def _changed(condition: Condition, facts: Facts) -> bool:
    """Changed, changed from or to: what the trigger's change did to the field."""
    name = CHANGED_FIELD.get(condition.field)
    if name not in facts.changes:
        return False
    old, new = facts.changes[name]
    if condition.operator == Op.CHANGED:
        return True
    if condition.field == F.TAGS:
        # tags are told as their names, comma-separated, before and after
        before, after = _names(old), _names(new)
        tag = condition.tag.name.casefold()
        if condition.operator == Op.CHANGED_TO:
            return tag in after and tag not in before
        return tag in before and tag not in after
    value = old if condition.operator == Op.CHANGED_FROM else new
    if condition.field in RELATIONS:
        return value == getattr(condition, f"{RELATIONS[condition.field]}_id")
    if condition.field == F.CUSTOM_FIELD:
        value = (value or {}).get(condition.custom_field.key)
    return str(value if value is not None else "").casefold() == condition.value.strip().casefold()


def _names(value) -> set[str]:
    return {part.strip().casefold() for part in str(value or "").split(",") if part.strip()}


def to_q(condition: Condition) -> Q | None:
    """The condition as a query on requests at rest (the dry run, the time-based sweep);
    None for a change condition, which only a change can answer."""
    if condition.operator in CHANGE_OPERATORS:
        return None
    op = condition.operator
    if condition.field == F.TAGS:
        tagged = Ticket.tags.through.objects.filter(ticket_id=OuterRef("pk"))
        match op:
            case Op.CONTAINS:
                return Q(Exists(tagged.filter(tag_id=condition.tag_id)))
            case Op.NOT_CONTAINS:
                return ~Q(Exists(tagged.filter(tag_id=condition.tag_id)))
            case Op.IS_EMPTY:
                return ~Q(Exists(tagged))
            case Op.IS_SET:
                return Q(Exists(tagged))
    if condition.field in RELATIONS:
        column = {F.COMPANY: "contact__company", F.OWNER: "owner"}.get(
            condition.field, condition.field
        )
        if op in (Op.IS_EMPTY, Op.IS_SET):
            return Q(**{f"{column}__isnull": op == Op.IS_EMPTY})
        if condition.field == F.CATEGORY:
            root = condition.category
            same = Q(
                category__tree_id=root.tree_id,
                category__lft__gte=root.lft,
                category__lft__lte=root.rght,
            )
        else:
            same = Q(**{f"{column}_id": getattr(condition, f"{RELATIONS[condition.field]}_id")})
        return same if op == Op.IS else ~same
    if condition.field == F.BODY:
        return _text_q(condition, "body_text", within_messages=True)
    column = {
        F.BASE_STATUS: "base_status",
        F.CHANNEL: "channel",
        F.CONTACT: "contact__email",
        F.SUBJECT: "subject",
    }.get(condition.field)
    if condition.field == F.CUSTOM_FIELD:
        key = condition.custom_field.key
        column = f"custom_fields__{key}"
        if op in (Op.IS_EMPTY, Op.IS_SET):
            filled = Q(custom_fields__has_key=key) & ~Q(**{f"{column}__iexact": ""})
            return filled if op == Op.IS_SET else ~filled
    return _text_q(condition, column)


def _text_q(condition: Condition, column: str, *, within_messages: bool = False) -> Q:
    wanted = condition.value.strip()
    match condition.operator:
        case Op.IS:
            q, negate = Q(**{f"{column}__iexact": wanted}), False
        case Op.IS_NOT:
            q, negate = Q(**{f"{column}__iexact": wanted}), True
        case Op.ONE_OF:
            q, negate = Q(), False
            for part in (p.strip() for p in wanted.split(",") if p.strip()):
                q |= Q(**{f"{column}__iexact": part})
        case Op.CONTAINS:
            q, negate = Q(**{f"{column}__icontains": wanted}), False
        case Op.NOT_CONTAINS:
            q, negate = Q(**{f"{column}__icontains": wanted}), True
        case Op.IS_EMPTY:
            q, negate = Q(**{f"{column}__gt": ""}), True
        case _:  # IS_SET
            q, negate = Q(**{f"{column}__gt": ""}), False
    if within_messages:
        q = Q(Exists(Message.objects.filter(q, ticket=OuterRef("pk"))))
    return ~q if negate else q
