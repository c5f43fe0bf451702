"""The demo's process, after seed_demo: "New employee laptop" in the Support queue, the
customer's, the IT team's (approved) and the customer's steps again. get_or_create'd and
updated in place, so a second run adds nothing."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from processes.models import Process, ProcessStep
from tickets.models import Queue

NAME = "New employee laptop"
STEPS = [
    {
        "name": "Who and when",
        "actor": ProcessStep.Actor.CUSTOMER,
        "instructions": "Tell us who starts, when, and in which role.",
        "fields": [
            {"name": "employee", "label": "Name", "type": "text", "required": True},
            {"name": "start_date", "label": "Start date", "type": "date", "required": True},
            {
                "name": "role",
                "label": "Role",
                "type": "choice",
                "required": True,
                "choices": ["Office", "Developer", "Designer", "Sales"],
            },
        ],
    },
    {
        "name": "Hardware choice",
        "actor": ProcessStep.Actor.TEAM,
        "instructions": "Pick the model for the role; an agent approves it before delivery.",
        "needs_approval": True,
        "fields": [
            {
                "name": "model",
                "label": "Model",
                "type": "choice",
                "required": True,
                "choices": [
                    ["x1", "ThinkPad X1 Carbon"],
                    ["mbp14", "MacBook Pro 14"],
                    ["t14", "ThinkPad T14"],
                ],
            },
            {"name": "accessories", "label": "Accessories", "type": "textarea"},
        ],
    },
    {
        "name": "Confirm delivery",
        "actor": ProcessStep.Actor.CUSTOMER,
        "instructions": "Has the laptop arrived in working order?",
        "fields": [{"name": "delivered", "label": "Delivered", "type": "yes_no", "required": True}],
    },
]


class Command(BaseCommand):
    help = "Add the demo's process, New employee laptop (after seed_demo)."

    @transaction.atomic
    def handle(self, *args, **options):
        queue = Queue.objects.filter(name="Support").first()
        if queue is None:
            raise CommandError("The Support queue is missing: run seed_demo first.")
        team, _ = Group.objects.get_or_create(name="IT")
        team.user_set.add(*get_user_model().objects.filter(username__in=["alice", "bob"]))
        queue.teams.add(team)
        process, made = Process.objects.update_or_create(
            name=NAME,
            defaults={
                "description": "Everything a new colleague needs on their first day: "
                "a laptop chosen for their role, delivered on time.",
                "queue": queue,
                "is_active": True,
                "available_on_portal": True,
            },
        )
        for position, spec in enumerate(STEPS, start=1):
            ProcessStep.objects.update_or_create(
                process=process,
                position=position,
                defaults={
                    **spec,
                    "team": team if spec["actor"] == ProcessStep.Actor.TEAM else None,
                    "needs_approval": spec.get("needs_approval", False),
                },
            )
        self.stdout.write(f"{'Added' if made else 'Kept'} the process “{NAME}”.")
