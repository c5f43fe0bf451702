from .approval import Approval
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
from .history import Event
from .message import Attachment, Message
from .people import Company, Contact
from .search import SearchDocument
from .ticket import Channel, Ticket, TimeCounter, TimeSpent
from .workspace import SavedView

__all__ = [
    "Approval",
    "Attachment",
    "Category",
    "Channel",
    "Company",
    "CustomField",
    "Contact",
    "Event",
    "Level",
    "Message",
    "NumberCounter",
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
