from .activity import Activity
from .approval import Approval
from .calendar import BusinessCalendar, Holiday, OpeningHours
from .config import (
    Category,
    CustomField,
    Level,
    NumberCounter,
    Priority,
    PriorityRule,
    Queue,
    QueuePriorityTime,
    ReplyTemplate,
    Stage,
    Status,
    Tag,
)
from .domain_event import DomainEvent
from .escalation_level import EscalationLevel
from .history import Event
from .message import Attachment, Message
from .people import Company, Contact
from .search import SearchDocument
from .ticket import Channel, Ticket, TimeCounter, TimeSpent
from .workspace import SavedView

__all__ = [
    "Activity",
    "Approval",
    "BusinessCalendar",
    "Attachment",
    "Category",
    "Channel",
    "Company",
    "CustomField",
    "Contact",
    "DomainEvent",
    "EscalationLevel",
    "Event",
    "Holiday",
    "Level",
    "Message",
    "NumberCounter",
    "OpeningHours",
    "Priority",
    "PriorityRule",
    "Queue",
    "QueuePriorityTime",
    "ReplyTemplate",
    "SavedView",
    "SearchDocument",
    "Stage",
    "Status",
    "Tag",
    "Ticket",
    "TimeCounter",
    "TimeSpent",
]
