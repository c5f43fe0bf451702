"""Running the rules: on a request's domain event, on the passing of time, on a dry run;
and an agent's macros.

A rule runs after the change that triggered it is committed (it is a subscriber of the
domain events), each in its own savepoint: a rule that raises is rolled back, logged and
skipped, and the request keeps what it had, while the rules after it still run. Its
changes go through the workflow inside `workflow.automated(...)`, which names the rule in
the history and puts the chain of rules that led to them into their domain events, so
that a rule never answers its own changes and a chain of rules stops at MAX_CHAIN.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from automations import actions as action_steps
from automations import conditions
from automations.conditions import Facts
from automations.models import (
    TARGETS,
    Action,
    Condition,
    Macro,
    Rule,
    RuleRun,
    TimeBasis,
    TimerMark,
    Trigger,
)
from tickets import workflow
from tickets.models import DomainEvent, Event, Ticket

logger = logging.getLogger(__name__)

MAX_CHAIN = 10  # rules answering rules' changes, one after the other, on one request


def rules_for(trigger: str):
    """The active rules of a trigger, in order, with what judging them reads: their
    conditions (and the category, tag or custom field one names). Their actions are read
    for the rules that match (`actions_of`)."""
    return (
        Rule.objects.filter(is_active=True, trigger=trigger)
        .prefetch_related(
            Prefetch(
                "conditions",
                Condition.objects.select_related("category", "tag", "custom_field").order_by("pk"),
                to_attr="loaded_conditions",
            )
        )
        .order_by("order", "pk")
    )


def with_parts(rules):
    """Rules with their conditions and actions and the rows those name, in three queries.
    Into lists (to_attr): a prefetch into managers clones a queryset per rule, which was
    most of the time judging a hundred rules took."""
    return rules.prefetch_related(
        Prefetch(
            "conditions",
            Condition.objects.select_related(*TARGETS).order_by("pk"),
            to_attr="loaded_conditions",
        ),
        Prefetch(
            "actions",
            _actions().select_related(*TARGETS, "template"),
            to_attr="loaded_actions",
        ),
    )


def actions_of(rule: Rule) -> list[Action]:
    if "loaded_actions" not in rule.__dict__:
        rule.loaded_actions = list(_actions().filter(rule=rule))
    return rule.loaded_actions


def _actions():
    # No joins: an action reads the one row it names when it runs, and planning a join of
    # the twelve tables took PostgreSQL longer (3 ms) than those reads.
    return Action.objects.order_by("order", "pk")


def problems(rule: Rule) -> list[str]:
    """What keeps the rule from running as written (deleted rows it names...)."""
    return condition_problems(rule) + action_problems(rule)


def condition_problems(rule: Rule) -> list[str]:
    found = [conditions.problem(c) for c in rule.condition_list]
    if rule.trigger == Trigger.TIME and not (rule.time_basis and rule.hours):
        found.append("A time-based rule needs its basis and hours.")
    return [text for text in found if text]


def action_problems(rule: Rule) -> list[str]:
    return [text for text in map(action_steps.problem, actions_of(rule)) if text]


def answer_event(domain_event: DomainEvent) -> list[RuleRun]:
    """The subscriber: the active rules of the event's trigger, run on its request."""
    rules = list(rules_for(domain_event.name))
    if not rules or domain_event.ticket_id is None:
        return []
    facts = Facts.load(domain_event.ticket_id, domain_event)
    if facts is None:
        return []
    chain = list((domain_event.payload.get("cause") or {}).get("rules", []))
    runs = []
    for rule in rules:
        run = run_rule(rule, facts, chain=chain, domain_event=domain_event)
        if run is not None:
            runs.append(run)
            if run.outcome in (RuleRun.Outcome.DONE, RuleRun.Outcome.FAILED):
                # what the next rule judges is the request as this one left it
                facts = Facts.load(facts.ticket.pk, domain_event)
    return runs


def run_rule(
    rule: Rule,
    facts: Facts,
    *,
    chain: list[int] = (),
    domain_event: DomainEvent | None = None,
    now: datetime | None = None,
) -> RuleRun | None:
    """Judge the rule on the facts and, when it matches, run its actions; the run's log,
    or None when it did not match (or the change was its own)."""
    if rule.pk in chain:
        return None  # its own change, or one it led to
    log = _Log(rule, facts.ticket, domain_event, now or timezone.now())
    broken = condition_problems(rule)
    held = None if broken else conditions.matches(rule, facts)
    if held is not None:
        broken = action_problems(rule)  # read only for the rules that match
    if broken:
        # shown as broken in the admin (and here in the server's log); never guessed at
        logger.warning("Rule %s is broken and skipped: %s", rule.pk, "; ".join(broken))
        return None
    if held is None:
        return None
    because = _because(rule, held, facts)
    if len(chain) >= MAX_CHAIN:
        names = " → ".join(_names(chain))
        return log.write(
            RuleRun.Outcome.CHAIN_LIMIT,
            because=because,
            error=f"Not run: {len(chain)} rules already ran one after the other on this "
            f"request ({names}); the chain stops at {MAX_CHAIN}. Look for rules that "
            "answer each other's changes.",
        )
    return _run_actions(
        log,
        rule,
        actions_of(rule),
        facts,
        by=None,
        because=because,
        cause={"rules": [*chain, rule.pk]},
    )


@dataclass
class MacroResult:
    ticket: Ticket
    changes: list[str]
    error: str = ""


def apply_macro(macro: Macro, ticket: Ticket, *, by, now: datetime | None = None) -> MacroResult:
    """An agent runs the macro on one request: its actions in order, all or nothing; the
    history names the agent and the macro."""
    now = now or timezone.now()
    facts = Facts.load(ticket.pk)
    facts.trigger = "macro"
    changes: list[str] = []
    try:
        with transaction.atomic(), workflow.automated(macro.label, macro=macro.pk):
            for action in macro.action_list:
                problem = action_steps.problem(action)
                if problem:
                    raise workflow.WorkflowError(f"The macro is broken: {problem}")
                changes.append(action_steps.run(action, facts, by=by, now=now, source=macro))
    except workflow.WorkflowError as error:
        return MacroResult(facts.ticket, [], str(error))
    return MacroResult(facts.ticket, changes)


def sweep_timers(*, now: datetime | None = None, limit: int = 200) -> int:
    """Beat's step for the time-based rules: each request whose time has come is judged
    once per occasion (TimerMark) and the rule run when it matches. Bounded; returns how
    many requests were judged."""
    now = now or timezone.now()
    judged = 0
    for rule in rules_for(Trigger.TIME):
        if judged >= limit:
            break
        if problems(rule):
            continue  # shown as broken in the admin; judging it would mark requests
        for ticket in due_for(rule, now)[: limit - judged]:
            judged += 1
            _, first_time = TimerMark.objects.get_or_create(
                rule=rule, ticket=ticket, occasion=ticket.occasion
            )
            if first_time:
                run_rule(rule, Facts.of(ticket, trigger=Trigger.TIME), now=now)
    return judged


def due_for(rule: Rule, now: datetime):
    """The open requests whose time has come for this time-based rule and that it has not
    judged for this occasion yet, those the database can rule out by the conditions left
    out; `occasion` is the moment its hours count from."""
    hours = timedelta(hours=rule.hours)
    tickets = Ticket.objects.open()
    match rule.time_basis:
        case TimeBasis.IDLE:
            tickets = tickets.annotate(occasion=F("updated_at")).filter(occasion__lte=now - hours)
        case TimeBasis.IN_STAGE:
            entered = (
                Event.objects.filter(ticket=OuterRef("pk"), field="stage")
                .order_by("-at")
                .values("at")[:1]
            )
            tickets = tickets.annotate(occasion=Coalesce(Subquery(entered), F("created_at")))
            tickets = tickets.filter(occasion__lte=now - hours)
        case TimeBasis.BEFORE_DEADLINE:
            tickets = tickets.annotate(occasion=F("deadline")).filter(
                occasion__gt=now, occasion__lte=now + hours
            )
        case TimeBasis.AFTER_DEADLINE:
            tickets = tickets.annotate(occasion=F("deadline")).filter(occasion__lte=now - hours)
    marked = TimerMark.objects.filter(
        rule=rule, ticket=OuterRef("pk"), occasion=OuterRef("occasion")
    )
    where = to_q(rule)
    return (
        tickets.filter(where.q if where else Q())
        .exclude(Exists(marked))
        .select_related(*conditions.TICKET_RELATIONS)
        .prefetch_related("tags")
        .order_by("occasion", "pk")
    )


@dataclass
class DryRun:
    count: int
    sample: list[Ticket]
    left_out: list[str]  # conditions the dry run cannot judge now (changes)


def dry_run(rule: Rule, *, sample: int = 20) -> DryRun:
    """Which open requests the rule's conditions match now, before it is switched on; for
    a time-based rule, those whose time has come too."""
    where = to_q(rule)
    if rule.trigger == Trigger.TIME:
        matching = due_for(rule, timezone.now())
    else:
        matching = Ticket.objects.open().filter(where.q).order_by("-updated_at", "pk")
    return DryRun(
        count=matching.count(),
        sample=list(matching.select_related("queue", "stage", "status")[:sample]),
        left_out=where.left_out,
    )


@dataclass
class Where:
    q: Q
    left_out: list[str]


def to_q(rule: Rule) -> Where:
    """The rule's conditions as a query on requests; a change condition (changed, changed
    from/to) says nothing about a request at rest and is left out."""
    parts, left_out = [], []
    for condition in rule.condition_list:
        q = conditions.to_q(condition)
        if q is None:
            left_out.append(str(condition))
        else:
            parts.append(q)
    if not parts:
        return Where(Q(), left_out)
    combined = parts[0]
    for q in parts[1:]:
        combined = combined & q if rule.match_all else combined | q
    return Where(combined, left_out)


class _Log:
    def __init__(self, rule, ticket, domain_event, now):
        self.rule, self.ticket, self.domain_event, self.now = rule, ticket, domain_event, now
        self.started = time.perf_counter()

    def write(self, outcome, *, because="", changes=(), error="") -> RuleRun:
        return RuleRun.objects.create(
            rule=self.rule,
            ticket=self.ticket,
            domain_event=self.domain_event,
            at=self.now,
            outcome=outcome,
            because=because,
            changes=list(changes),
            error=error,
            duration_ms=round((time.perf_counter() - self.started) * 1000, 2),
        )


def _run_actions(log, rule, rule_actions, facts, *, by, because, cause) -> RuleRun:
    changes: list[str] = []
    try:
        with transaction.atomic(), workflow.automated(rule.label, **cause):
            for action in rule_actions:
                changes.append(action_steps.run(action, facts, by=by, now=log.now, source=rule))
            took = (time.perf_counter() - log.started) * 1000
            workflow.record_automation_run(
                facts.ticket, summary=f"{because} ({took:.0f} ms)", now=log.now
            )
    except Exception as error:
        # The request keeps what it had before the rule; the rules after it still run.
        logger.exception("Rule %s failed on request %s", rule.pk, facts.ticket.pk)
        undone = [f"{change} (rolled back)" for change in changes]
        return log.write(RuleRun.Outcome.FAILED, because=because, changes=undone, error=str(error))
    return log.write(RuleRun.Outcome.DONE, because=because, changes=changes)


def _because(rule: Rule, held: list[Condition], facts: Facts) -> str:
    trigger = Trigger(rule.trigger).label.lower()
    if not held:
        return f"on {trigger}"
    joined = (" and " if rule.match_all else " or ").join(str(c) for c in held)
    return f"on {trigger}, because {joined}"


def _names(rule_pks: list[int]) -> list[str]:
    names = dict(Rule.objects.filter(pk__in=rule_pks).values_list("pk", "name"))
    return [names.get(pk, f"#{pk}") for pk in rule_pks]
