from .config import (
    Category,
    Level,
    NumberCounter,
    Priority,
    PriorityRule,
    Queue,
    QueuePriorityTime,
    Stage,
    Status,
    Tag,
)
from .history import Event
from .message import Attachment, Message
from .people import Company, Contact
from .ticket import Channel, Ticket

__all__ = [
    "Attachment",
    "Category",
    "Channel",
    "Company",
    "Contact",
    "Event",
    "Level",
    "Message",
    "NumberCounter",
    "Priority",
    "PriorityRule",
    "Queue",
    "QueuePriorityTime",
    "Stage",
    "Status",
    "Tag",
    "Ticket",
]
