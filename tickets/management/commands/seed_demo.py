"""Fill the database with the demo in tickets/demo.py.

Configuration rows are get_or_create'd, so a second run adds nothing. Requests are told
as stories through tickets.workflow, like production makes them, and only when the demo
queues have no requests yet: a story cannot be told twice without telling it again.
"""

import random
from collections import Counter
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from tickets import demo, workflow
from tickets.models import (
    BusinessCalendar,
    Category,
    Channel,
    Company,
    Contact,
    EscalationLevel,
    Holiday,
    Message,
    OpeningHours,
    Priority,
    PriorityRule,
    Queue,
    QueuePriorityTime,
    ReplyTemplate,
    Stage,
    Status,
    Tag,
    Ticket,
)

User = get_user_model()

# How long ago requests came in, in days, by the stage they end in: new ones are recent,
# closed ones old enough to have been worked.
AGE_DAYS = {"New": (0.05, 3), "Closed": (5, 30)}
IN_PROGRESS_AGE_DAYS = (1, 15)
POSTPONED = {"Postponed", "Waiting for customer", "Waiting for supplier"}


class Command(BaseCommand):
    help = "Create demo users, configuration and about fifty requests. A second run adds nothing."

    def handle(self, *args, **options):
        seeder = DemoSeeder(now=timezone.now())
        with transaction.atomic():
            requests = seeder.run()
        made = seeder.created
        summary = (
            f"demo data: {made[Queue]} queues, {requests} requests, {made[Contact]} contacts, "
            f"{made[User]} users, {made[Category]} categories created"
        )
        if not requests:
            summary += " (the demo requests were there already)"
        self.stdout.write(summary)
        self.stdout.write("Demo logins:")
        for spec in demo.USERS:
            user = seeder.users[spec["username"]]
            # Only users this command made are sure to have the demo password.
            known = user.pk in seeder.new_user_ids or user.check_password(demo.PASSWORD)
            password = demo.PASSWORD if known else "(existing user, password unchanged)"
            self.stdout.write(f"  {user.username} / {password}  ({spec['role']})")


class DemoSeeder:
    def __init__(self, *, now: datetime):
        self.now = now
        # Repeatable demo data.
        self.rng = random.Random(demo.SEED)  # nosec B311
        self.created: Counter = Counter()
        self.new_user_ids: set[int] = set()

    def run(self) -> int:
        """Create what is missing; return the number of requests created."""
        self.seed_users()
        self.seed_people()
        self.seed_configuration()
        self.seed_categories()
        self.seed_queues()
        self.seed_service_levels()
        return self.seed_requests()

    def ensure(self, model, defaults: dict | None = None, **lookup):
        """get_or_create, counting what it creates."""
        obj, created = model.objects.get_or_create(defaults=defaults or {}, **lookup)
        self.created[model] += created
        return obj

    # Configuration

    def seed_users(self) -> None:
        self.teams = {name: self.ensure(Group, name=name) for name in demo.TEAMS}
        self.users = {}
        for spec in demo.USERS:
            user, created = User.objects.get_or_create(
                username=spec["username"],
                defaults={
                    "email": spec["email"],
                    "first_name": spec["first_name"],
                    "last_name": spec["last_name"],
                    "is_staff": spec["is_staff"],
                    "is_superuser": spec.get("is_superuser", False),
                },
            )
            if created:
                user.set_password(demo.PASSWORD)
                user.save(update_fields=["password"])
                self.created[User] += 1
                self.new_user_ids.add(user.pk)
            user.groups.add(*(self.teams[name] for name in spec["teams"]))
            self.users[spec["username"]] = user

    def seed_people(self) -> None:
        companies = {
            key: self.ensure(Company, name=spec["name"], defaults=spec)
            for key, spec in demo.COMPANIES.items()
        }
        self.contacts = {}
        for key, (name, email, phone, company) in demo.CONTACTS.items():
            login = self.users.get(demo.PORTAL_LOGINS.get(key))
            self.contacts[key] = self.ensure(
                Contact,
                email__iexact=email,  # addresses are unique whatever their case
                defaults={
                    "email": email,
                    "name": name,
                    "phone": phone,
                    "mobile": demo.CONTACT_MOBILES.get(key, ""),
                    "company": companies.get(company),
                    "address": demo.CONTACT_ADDRESSES.get(key, ""),
                    "user": login,
                    "can_see_company_requests": login is not None,
                },
            )

    def seed_configuration(self) -> None:
        self.priorities = {
            name: self.ensure(Priority, name=name, defaults={"rank": rank, "color": color})
            for name, rank, color in demo.PRIORITIES
        }
        for (impact, urgency), name in demo.PRIORITY_MODEL.items():
            self.ensure(
                PriorityRule,
                impact=impact,
                urgency=urgency,
                defaults={"priority": self.priorities[name]},
            )
        self.statuses = {
            name: self.ensure(Status, name=name, defaults={"base": base})
            for name, base in demo.STATUSES
        }
        self.tags = {name: self.ensure(Tag, name=name) for name in demo.TAGS}

    def seed_categories(self) -> None:
        categories = {}
        for path, rules in demo.CATEGORIES.items():
            parent_path, _, name = path.rpartition("/")
            category = self.ensure(
                Category,
                parent=categories.get(parent_path),
                name=name,
                defaults={
                    "default_owner": self.users.get(rules.get("default_owner")),
                    "default_team": self.teams.get(rules.get("default_team")),
                    "default_priority": self.priorities.get(rules.get("default_priority")),
                },
            )
            category.members.add(*(self.users[name] for name in rules.get("members", [])))
            category.teams.add(*(self.teams[name] for name in rules.get("teams", [])))
            categories[path] = category
        # Each insert moves other nodes' lft/rght in the database but not in the instances
        # above; reload them so ancestor look-ups (rules, queue categories) see the tree.
        fresh = Category.objects.in_bulk([c.pk for c in categories.values()])
        self.categories = {path: fresh[c.pk] for path, c in categories.items()}

    def seed_queues(self) -> None:
        self.queues = {}
        for spec in demo.QUEUES:
            portal = spec["portal"] or {}
            queue = self.ensure(
                Queue,
                name=spec["name"],
                defaults={
                    "email_address": spec["email_address"],
                    "numbering_scheme": spec["numbering_scheme"],
                    "default_priority": self.priorities[spec["default_priority"]],
                    "is_open_to_portal": bool(portal),
                    "portal_team": self.teams.get(portal.get("team")),
                    "portal_priority": self.priorities.get(portal.get("priority")),
                    "portal_category": self.categories.get(portal.get("category")),
                },
            )
            queue.add_system_stages()
            for position, name in enumerate(spec["stages"], start=1):
                self.ensure(Stage, queue=queue, name=name, defaults={"position": position})
            queue.members.add(*(self.users[name] for name in spec["members"]))
            queue.teams.add(*(self.teams[name] for name in spec["teams"]))
            queue.categories.add(*(self.categories[path] for path in spec["categories"]))
            queue.portal_tags.add(*(self.tags[name] for name in portal.get("tags", [])))
            for name, (alert, completion) in spec["times"].items():
                self.ensure(
                    QueuePriorityTime,
                    queue=queue,
                    priority=self.priorities[name],
                    defaults={"alert_minutes": alert, "completion_minutes": completion},
                )
            self.queues[spec["name"]] = queue

    def seed_service_levels(self) -> None:
        """Reply templates, signatures, a business-hours calendar and escalation chains."""
        for name, purpose, queue, subject, body in demo.REPLY_TEMPLATES:
            self.ensure(
                ReplyTemplate,
                name=name,
                queue=self.queues.get(queue),
                defaults={"purpose": purpose, "subject": subject, "body": body},
            )
        for queue, signature in demo.SIGNATURES.items():
            Queue.objects.filter(pk=self.queues[queue].pk, signature="").update(signature=signature)
        spec = demo.CALENDAR
        calendar = self.ensure(
            BusinessCalendar, name=spec["name"], defaults={"time_zone": spec["time_zone"]}
        )
        for weekday, opens, closes in spec["hours"]:
            self.ensure(
                OpeningHours, calendar=calendar, weekday=weekday, opens=opens, closes=closes
            )
        for day, name in spec["holidays"]:
            self.ensure(Holiday, calendar=calendar, date=day, defaults={"name": name})
        Queue.objects.filter(name__in=spec["queues"], calendar=None).update(calendar=calendar)
        for priority, levels in demo.ESCALATION.items():
            for alert_level, minutes, action, raise_to in levels:
                self.ensure(
                    EscalationLevel,
                    priority=self.priorities[priority],
                    alert_level=alert_level,
                    defaults={
                        "minutes": minutes,
                        "action": action,
                        "raise_to": self.priorities.get(raise_to),
                    },
                )
        for queue in self.queues.values():
            queue.refresh_from_db()

    # Requests

    def seed_requests(self) -> int:
        if Ticket.objects.filter(queue__in=self.queues.values()).exists():
            return 0
        # Open them oldest first, so numbers grow with the creation date as they would.
        arrivals = sorted(
            ((self.arrival(spec), spec) for spec in demo.REQUESTS), key=lambda pair: pair[0]
        )
        tickets = {spec.subject: self.open_request(spec, at) for at, spec in arrivals}
        for _, spec in arrivals:
            self.tell(tickets[spec.subject], spec)
        # Links and merges last: both requests exist by now.
        for spec in demo.REQUESTS:
            ticket = tickets[spec.subject]
            if spec.link_to:
                other = tickets[spec.link_to]
                workflow.link_tickets(
                    ticket, other, by=self.agent_of(ticket), now=self.later(ticket, other)
                )
            if spec.merge_into:
                into = tickets[spec.merge_into]
                workflow.merge_ticket(
                    ticket, into=into, by=self.agent_of(into), now=self.later(ticket, into)
                )
        return len(tickets)

    def later(self, *tickets: Ticket) -> datetime:
        """A moment after the last change of these requests, and not in the future."""
        return min(self.now, max(t.updated_at for t in tickets) + timedelta(minutes=30))

    def arrival(self, spec: demo.Request) -> datetime:
        low, high = AGE_DAYS.get(spec.stage, IN_PROGRESS_AGE_DAYS)
        return self.now - timedelta(days=self.rng.uniform(low, high))

    def agents(self, queue_name: str) -> list:
        return [self.users[name] for name in demo.QUEUE_AGENTS[queue_name]]

    def agent_of(self, ticket: Ticket):
        return ticket.owner or self.agents(ticket.queue.name)[0]

    def open_request(self, spec: demo.Request, at: datetime) -> Ticket:
        """The request as it came in: a moved one first lands in its first queue."""
        queue = self.queues[spec.moved_from or spec.queue]
        contact = self.contacts.get(spec.contact)
        category = None if spec.moved_from else self.categories.get(spec.category)
        options = {}
        if spec.channel == Channel.PORTAL:
            by = contact.user
            # What the portal gives a request opened there.
            options = {
                "team": queue.portal_team,
                "priority": queue.portal_priority,
                "tags": list(queue.portal_tags.all()),
            }
            category = category or queue.portal_category
        elif spec.channel in (Channel.PHONE, Channel.INTERNAL):
            by = self.rng.choice(self.agents(queue.name))  # who took the call or wrote it
        else:
            by = None  # email arrives by itself
        return workflow.create_ticket(
            queue=queue,
            subject=spec.subject,
            body=spec.body,
            channel=spec.channel,
            contact=contact,
            category=category,
            impact=spec.impact,
            urgency=spec.urgency,
            by=by,
            now=at,
            **options,
        )

    def tell(self, ticket: Ticket, spec: demo.Request) -> None:
        """What happened to the request after it came in, ending where the demo says."""
        agents = self.agents(spec.queue)
        agent = ticket.owner if ticket.owner in agents else self.rng.choice(agents)
        worked = spec.stage != "New" or spec.status not in ("Active", "Deleted")
        moments = self.moments(ticket.created_at)
        if spec.moved_from:
            category = self.categories.get(spec.category)
            workflow.update_ticket(
                ticket,
                queue=self.queues[spec.queue],
                category=category,
                by=agent,
                now=next(moments),
            )
        if ticket.owner != agent and (worked or self.rng.random() < 0.5):
            workflow.assign_ticket(ticket, owner=agent, by=agent, now=next(moments))
        if spec.tags:
            tags = {*ticket.tags.values_list("name", flat=True), *spec.tags}
            workflow.set_tags(ticket, tags=sorted(tags), by=agent, now=next(moments))
        if "on-site" in spec.tags and ticket.contact:  # the visit goes to their address
            workflow.update_ticket(
                ticket,
                related_address=self.address_of(ticket.contact),
                by=agent,
                now=next(moments),
            )
        if worked:
            self.conversation(ticket, agent, moments)
            if self.rng.random() < 0.5:
                note = workflow.add_note(
                    ticket, text=self.rng.choice(demo.NOTES), by=agent, now=next(moments)
                )
                if self.rng.random() < 0.4:
                    workflow.pin_note(note, pinned=True, by=agent, now=next(moments))
        elif ticket.contact and self.rng.random() < 0.3:
            self.customer_writes(ticket, self.rng.choice(demo.CUSTOMER_FOLLOW_UPS), agent, moments)
        self.move_to_stage(ticket, spec, agent, moments)
        self.finish(ticket, spec, agent, moments)

    def moments(self, start: datetime):
        """Endless ascending times for what happens to a request: each a step closer to
        a few days after its arrival, never past now."""
        end = min(self.now, start + timedelta(days=5))
        at = start
        while True:
            at += (end - at) * self.rng.uniform(0.05, 0.3)
            yield at

    def conversation(self, ticket: Ticket, agent, moments) -> None:
        if ticket.contact is None:
            return  # an internal request: the team talks in notes
        if ticket.channel == Channel.PHONE:
            self.agent_calls(ticket, self.rng.choice(demo.CALLBACKS), agent, moments)
        else:
            self.agent_writes(ticket, self.rng.choice(demo.FIRST_REPLIES), agent, moments)
        if self.rng.random() < 0.6:
            self.customer_writes(ticket, self.rng.choice(demo.CUSTOMER_REPLIES), agent, moments)
            if self.rng.random() < 0.5:
                self.agent_writes(ticket, self.rng.choice(demo.FOLLOW_UP_REPLIES), agent, moments)

    def agent_writes(self, ticket: Ticket, template: str, agent, moments) -> None:
        workflow.add_message(
            ticket,
            by=agent,
            kind=Message.Kind.EMAIL,
            direction=Message.Direction.OUTBOUND,
            from_address=ticket.queue.email_address,
            to=ticket.contact.email,
            subject=f"Re: [{ticket.number}] {ticket.subject}",
            body_text=template.format(name=first_name(ticket.contact), agent=agent.first_name),
            message_id=self.message_id(ticket.queue.email_address),
            time_units=self.rng.choice([5, 10, 15, 30]),
            now=next(moments),
        )

    def agent_calls(self, ticket: Ticket, template: str, agent, moments) -> None:
        workflow.add_message(
            ticket,
            by=agent,
            kind=Message.Kind.PHONE,
            direction=Message.Direction.OUTBOUND,
            body_text=template.format(name=first_name(ticket.contact)),
            time_units=self.rng.choice([5, 10, 15]),
            now=next(moments),
        )

    def customer_writes(self, ticket: Ticket, text: str, agent, moments) -> None:
        """The customer answers the way the request came in: by mail, on the portal, or
        by calling again (which the agent writes down)."""
        contact = ticket.contact
        common = {
            "contact": contact,
            "direction": Message.Direction.INBOUND,
            "now": next(moments),
        }
        if ticket.channel == Channel.PORTAL:
            workflow.add_message(
                ticket, by=contact.user, kind=Message.Kind.PORTAL, body_text=text, **common
            )
        elif ticket.channel == Channel.PHONE:
            call = f"{contact.name} called: {text}"
            workflow.add_message(
                ticket, by=agent, kind=Message.Kind.PHONE, body_text=call, **common
            )
        else:
            workflow.add_message(
                ticket,
                by=None,
                kind=Message.Kind.EMAIL,
                from_address=contact.email,
                to=ticket.queue.email_address,
                subject=f"Re: [{ticket.number}] {ticket.subject}",
                body_text=text,
                message_id=self.message_id(contact.email),
                **common,
            )

    def move_to_stage(self, ticket: Ticket, spec: demo.Request, agent, moments) -> None:
        """Progress stage by stage to the demo's stage; a closed one gets partway first."""
        names = [stage.name for stage in ticket.queue.stages.all()]
        if spec.stage == "Closed":
            steps = self.rng.randint(1, len(names) - 2)  # any in-progress stage
        else:
            steps = names.index(spec.stage)
        for _ in range(steps + spec.regress):
            workflow.progress_ticket(ticket, by=agent, now=next(moments))
        if spec.regress:
            reason = self.rng.choice(demo.REGRESS_REASONS)
            workflow.regress_ticket(ticket, reason=reason, by=agent, now=next(moments))

    def finish(self, ticket: Ticket, spec: demo.Request, agent, moments) -> None:
        if spec.stage == "Closed":
            if ticket.contact:
                replies = demo.CLOSING_REPLIES if spec.resolved else demo.UNRESOLVED_REPLIES
                self.agent_writes(ticket, self.rng.choice(replies), agent, moments)
            workflow.close_ticket(ticket, resolved=spec.resolved, by=agent, now=next(moments))
        elif spec.status in POSTPONED:
            until = self.now + timedelta(days=self.rng.randint(2, 10))
            status = self.statuses.get(spec.status)  # None: the built-in Postponed
            workflow.postpone_ticket(
                ticket, until=until, status=status, by=agent, now=next(moments)
            )
        elif spec.status == "In review":
            workflow.change_status(
                ticket, status=self.statuses[spec.status], by=agent, now=next(moments)
            )
        elif spec.status == "Deleted":
            workflow.delete_ticket(ticket, by=agent, now=next(moments))

    def address_of(self, contact: Contact) -> str:
        return contact.company.address if contact.company else contact.address

    def message_id(self, address: str) -> str:
        return f"<{self.rng.getrandbits(64):016x}@{address.partition('@')[2]}>"


def first_name(contact: Contact) -> str:
    return contact.name.split()[0] if contact.name else contact.email
