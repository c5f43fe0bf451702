"""The demo data `manage.py seed_demo` creates, as plain data.

Names here are the demo's handles: users by username, contacts by a short key, teams,
priorities, statuses, queues and stages by name, categories by their path
("Hardware/Laptops/Batteries"). The command turns them into rows and, for requests,
into calls to tickets.workflow.
"""

from typing import NamedTuple

SEED = 20240611  # fixed, so every run tells the same stories
# The demo's documented logins (README).
PASSWORD = "demo"  # nosec B105

TEAMS = ["First line", "Billing"]

USERS = [
    {
        "username": "admin",
        "email": "admin@helpdesk.example",
        "first_name": "Ada",
        "last_name": "Admin",
        "is_staff": True,
        "is_superuser": True,
        "teams": [],
        "role": "superuser",
    },
    {
        "username": "alice",
        "email": "alice@helpdesk.example",
        "first_name": "Alice",
        "last_name": "Moreau",
        "is_staff": False,
        "teams": ["First line"],
        "role": "agent, First line",
    },
    {
        "username": "bob",
        "email": "bob@helpdesk.example",
        "first_name": "Bob",
        "last_name": "Lindqvist",
        "is_staff": False,
        "teams": ["Billing", "First line"],
        "role": "agent, Billing and First line",
    },
    {
        "username": "carol",
        "email": "carol@northwind.example",
        "first_name": "Carol",
        "last_name": "Mendes",
        "is_staff": False,
        "teams": [],
        "role": "portal contact, Northwind Traders",
    },
]

COMPANIES = {
    "northwind": {
        "name": "Northwind Traders",
        "domain": "northwind.example",
        "phone": "+44 20 7946 0100",
        "address": "12 Harbour Street\nLondon E14 5AB",
    },
    "contoso": {
        "name": "Contoso Logistics",
        "domain": "contoso.example",
        "phone": "+44 20 7946 0200",
        "address": "Unit 4, Riverside Park\nReading RG1 8DB",
    },
}

# key → (name, email, phone, company key or None)
CONTACTS = {
    "carol": ("Carol Mendes", "carol@northwind.example", "+44 20 7946 0101", "northwind"),
    "dan": ("Dan Okafor", "dan.okafor@northwind.example", "+44 20 7946 0102", "northwind"),
    "erin": ("Erin Walsh", "erin.walsh@northwind.example", "+44 20 7946 0103", "northwind"),
    "frank": ("Frank Becker", "frank.becker@northwind.example", "+44 20 7946 0104", "northwind"),
    "grace": ("Grace Liu", "grace.liu@contoso.example", "+44 20 7946 0201", "contoso"),
    "henrik": ("Henrik Dahl", "henrik.dahl@contoso.example", "+44 20 7946 0202", "contoso"),
    "ingrid": ("Ingrid Solberg", "ingrid.solberg@contoso.example", "+44 20 7946 0203", "contoso"),
    "jonas": ("Jonas Weber", "jonas.weber@contoso.example", "+44 20 7946 0204", "contoso"),
    "karen": ("Karen Patel", "karen.patel@mail.example", "+44 7700 900123", None),
    "leo": ("Leo Martins", "leo.martins@mail.example", "+44 7700 900456", None),
}

# Mobile numbers for SMS: phonenumbers' example numbers (the demo's SMS go to files).
CONTACT_MOBILES = {
    "frank": "+4915123456789",
    "karen": "+447400123456",
    "leo": "+353850123456",
}

# Contacts without a company get a home address (field service visits them there).
CONTACT_ADDRESSES = {
    "karen": "3 Mill Lane\nOxford OX1 2AB",
    "leo": "18 Park Road\nBath BA1 3CD",
}

# The contacts who log in to the portal: contact key → username.
PORTAL_LOGINS = {"carol": "carol"}

# name, rank, Bootstrap colour
PRIORITIES = [
    ("Low", 1, "secondary"),
    ("Medium", 2, "info"),
    ("High", 3, "warning"),
    ("Critical", 4, "danger"),
]

# The priority model: (impact, urgency) → priority.
PRIORITY_MODEL = {
    ("low", "low"): "Low",
    ("low", "medium"): "Low",
    ("low", "high"): "Medium",
    ("medium", "low"): "Low",
    ("medium", "medium"): "Medium",
    ("medium", "high"): "High",
    ("high", "low"): "Medium",
    ("high", "medium"): "High",
    ("high", "high"): "Critical",
}

# Custom statuses, each mapped onto a built-in one.
STATUSES = [
    ("Waiting for customer", "postponed"),
    ("Waiting for supplier", "postponed"),
    ("In review", "active"),
]

TAGS = ["vip", "warranty", "outage", "invoice", "on-site", "refund", "portal"]

# path → members, teams and rules. Parents come before their children.
CATEGORIES = {
    "Hardware": {"members": ["alice"], "teams": ["First line"], "default_team": "First line"},
    "Hardware/Laptops": {},
    "Hardware/Laptops/Batteries": {},
    "Hardware/Laptops/Screens": {},
    "Hardware/Printers": {},
    "Hardware/Printers/Paper jams": {"default_priority": "Low"},
    "Hardware/Printers/Toner": {"default_priority": "Low"},
    "Hardware/Network": {"default_priority": "High"},
    "Hardware/Network/Wi-Fi": {},
    "Hardware/Network/Cabling": {},
    "Software": {"teams": ["First line"], "default_team": "First line"},
    "Software/Email": {},
    "Software/Email/Outlook": {},
    "Software/Email/Mobile mail": {},
    "Software/Accounts": {"members": ["alice"]},
    "Software/Accounts/Password reset": {"default_owner": "alice", "default_priority": "High"},
    "Software/Accounts/Access requests": {},
    "Billing": {
        "members": ["bob"],
        "teams": ["Billing"],
        "default_owner": "bob",
        "default_team": "Billing",
    },
    "Billing/Invoices": {},
    "Billing/Invoices/Corrections": {},
    "Billing/Invoices/Refunds": {"default_priority": "High"},
    "Billing/Subscriptions": {"default_priority": "Low"},
    "Billing/Subscriptions/Upgrades": {},
    "Billing/Subscriptions/Cancellations": {},
    "Installation": {"members": ["alice", "bob"], "default_team": "First line"},
    "Installation/Workstations": {},
    "Installation/Workstations/Docking stations": {},
    "Installation/Meeting rooms": {},
    "Installation/Meeting rooms/Displays": {},
}

DAY = 24 * 60

QUEUES = [
    {
        "name": "Support",  # the default queue other commands use
        "email_address": "support@helpdesk.example",
        "numbering_scheme": "SUP-{year}-{seq:05}",
        "default_priority": "Medium",
        "stages": ["Triage", "Investigating", "Waiting on fix"],
        "members": ["alice"],
        "teams": ["First line"],
        "categories": ["Hardware", "Software"],
        # priority → (alert minutes, completion minutes)
        "times": {
            "Low": (8 * 60, 10 * DAY),
            "Medium": (4 * 60, 5 * DAY),
            "High": (60, 2 * DAY),
            "Critical": (15, 8 * 60),
        },
        "portal": {
            "team": "First line",
            "priority": "Medium",
            "category": "Software",
            "tags": ["portal"],
        },
    },
    {
        "name": "Billing",
        "email_address": "billing@helpdesk.example",
        "numbering_scheme": "BIL-{seq:06}",
        "default_priority": "Low",
        "stages": ["Review", "Refund approval"],
        "members": ["bob"],
        "teams": ["Billing"],
        "categories": ["Billing"],
        "times": {
            "Low": (DAY, 14 * DAY),
            "Medium": (8 * 60, 7 * DAY),
            "High": (4 * 60, 3 * DAY),
            "Critical": (60, DAY),
        },
        "portal": None,
    },
    {
        "name": "Field service",
        "email_address": "field@helpdesk.example",
        "numbering_scheme": "FLD-{year}{month}-{seq:04}",
        "default_priority": "Medium",
        "stages": ["Scheduling", "On site", "Report"],
        "members": ["alice", "bob"],
        "teams": [],
        "categories": ["Hardware", "Installation"],
        "times": {
            "Low": (DAY, 14 * DAY),
            "Medium": (8 * 60, 7 * DAY),
            "High": (2 * 60, 3 * DAY),
            "Critical": (30, DAY),
        },
        "portal": None,
    },
]

# The agents who pick up a queue's requests in the demo.
QUEUE_AGENTS = {
    "Support": ["alice", "bob"],
    "Billing": ["bob"],
    "Field service": ["alice", "bob"],
}


class Request(NamedTuple):
    """One demo request and where its story ends."""

    queue: str
    channel: str  # email, phone, portal, internal
    contact: str | None  # key into CONTACTS; None for internal requests
    category: str | None
    subject: str
    body: str
    stage: str = "New"  # the stage it ends in; "Closed" means it gets closed
    status: str = "Active"  # for requests that are not closed
    resolved: bool = True  # for closed requests
    tags: tuple[str, ...] = ()
    impact: str | None = None
    urgency: str | None = None
    regress: bool = False  # goes one stage too far, then back with a reason
    moved_from: str | None = None  # arrived in this queue, then moved
    merge_into: str | None = None  # the subject of the request it duplicates
    link_to: str | None = None  # the subject of a related request


# One request a few lines, like a table; the formatter would give each argument a line.
# fmt: off
REQUESTS = [
    # Support
    Request(
        "Support", "email", "dan", "Hardware/Laptops/Batteries",
        "Laptop battery drains within an hour",
        "Since last week my laptop goes from full to empty in about an hour, even when I "
        "only have email open. It used to last a whole day.",
    ),
    Request(
        "Support", "portal", "carol", "Software/Email/Outlook",
        "Outlook keeps asking for my password",
        "Every few minutes Outlook pops up a password prompt. I type my password and it "
        "comes back ten minutes later.",
    ),
    Request(
        "Support", "phone", "karen", "Software/Accounts/Password reset",
        "Locked out after changing my password",
        "Caller changed her password yesterday and is now locked out of every system. "
        "Needs access before her 2 pm meeting.",
        urgency="high",
    ),
    Request(
        "Support", "email", "ingrid", "Hardware",
        "Request for a second monitor",
        "Could I get a second monitor for my desk? I work with large spreadsheets all day.",
        impact="low", urgency="low",
    ),
    Request(
        "Support", "email", "erin", "Hardware/Printers/Paper jams",
        "Second-floor printer jams on every print job",
        "The printer next to the kitchen on the second floor jams on every job, single "
        "pages included. We have already tried another paper pack.",
        stage="Triage",
    ),
    Request(
        "Support", "email", "frank", "Hardware/Printers/Paper jams",
        "Printer on the 2nd floor jams again",
        "Hi, the printer near the kitchen is jamming again. Can someone have a look?",
        merge_into="Second-floor printer jams on every print job",
    ),
    Request(
        "Support", "email", "grace", "Hardware/Network/Wi-Fi",
        "Wi-Fi drops in meeting room B",
        "Every call we take in meeting room B drops after a few minutes. Other rooms "
        "are fine.",
        stage="Triage",
    ),
    Request(
        "Support", "email", "leo", "Software/Email/Mobile mail",
        "Cannot set up mail on my new phone",
        "I got a new Android phone and the mail app says the server settings are wrong. "
        "Which settings should I use?",
        stage="Triage", status="Waiting for customer",
    ),
    Request(
        "Support", "email", "jonas", "Hardware/Laptops",
        "CEO's laptop will not start",
        "Our CEO's laptop shows a black screen after the logo. He travels tomorrow "
        "morning and needs it working tonight.",
        stage="Triage", tags=("vip",), impact="high", urgency="high",
    ),
    Request(
        "Support", "email", "henrik", "Software/Email/Outlook",
        "Outlook cannot connect to the server since this morning",
        "Nobody in our office can send or receive email since about 8 am. Outlook says "
        "it is trying to connect.",
        stage="Investigating", tags=("outage",), impact="high", urgency="high",
        link_to="Replace the failed switch in the server room",
    ),
    Request(
        "Support", "phone", "frank", "Hardware/Laptops/Screens",
        "Flickering screen on a two-month-old laptop",
        "Caller's laptop screen flickers when the lid is moved. Bought two months ago, so "
        "still under warranty.",
        stage="Investigating", tags=("warranty",), regress=True,
    ),
    Request(
        "Support", "email", "ingrid", "Software/Accounts/Access requests",
        "Access to the shared finance folder",
        "Please give me read access to the Finance share. My manager, Jonas Weber, has "
        "approved it.",
        stage="Investigating", status="In review",
    ),
    Request(
        "Support", "internal", None, "Hardware/Network",
        "Renew the Wi-Fi certificate before it expires",
        "The certificate of the office Wi-Fi expires at the end of the month. Order the "
        "renewal and roll it out on a quiet evening.",
        stage="Investigating", status="Postponed",
    ),
    Request(
        "Support", "email", "dan", "Hardware/Laptops/Batteries",
        "Swollen battery in a laptop under warranty",
        "The battery of my laptop has swollen and the case no longer closes. I have "
        "stopped using it.",
        stage="Waiting on fix", status="Waiting for supplier", tags=("warranty",),
        urgency="high",
    ),
    Request(
        "Support", "portal", "carol", "Software/Email/Outlook",
        "Shared calendar shows meetings an hour late",
        "Meetings in our team calendar show one hour later than they were booked. My own "
        "calendar is correct.",
        stage="Waiting on fix",
    ),
    Request(
        "Support", "email", "jonas", "Hardware/Printers/Toner",
        "New toner cartridge reported as empty",
        "We put a brand new toner cartridge in the warehouse printer and it still says "
        "the toner is empty.",
        stage="Waiting on fix",
        link_to="Replace the fuser unit of the office printer",
    ),
    Request(
        "Support", "email", "grace", "Software/Accounts/Password reset",
        "Password reset link has expired",
        "I clicked the reset link this morning and it says it has expired. Can you send "
        "me a new one?",
        stage="Closed",
    ),
    Request(
        "Support", "phone", "karen", "Hardware/Printers/Paper jams",
        "Printer prints blank pages",
        "Caller's home office printer feeds the paper but prints nothing.",
        stage="Closed",
    ),
    Request(
        "Support", "portal", "carol", "Software/Email/Mobile mail",
        "Emails stuck in the outbox on my iPhone",
        "Mail I write on my iPhone stays in the outbox. Mail from my laptop goes out fine.",
        stage="Closed",
    ),
    Request(
        "Support", "email", "leo", "Software/Email/Outlook",
        "Restore an email I deleted last year",
        "I deleted an important email from a supplier in spring last year. Can you get "
        "it back from a backup?",
        stage="Closed", resolved=False,
    ),
    Request(
        "Support", "internal", None, "Hardware/Laptops",
        "Prepare laptops for three new starters",
        "Three people start in sales next Monday. Image three laptops and set up their "
        "accounts.",
        stage="Closed",
    ),
    Request(
        "Support", "email", "henrik", "Software/Accounts/Access requests",
        "New employee needs access to the CRM",
        "Our new colleague Maria starts on Monday and needs a CRM login with the sales "
        "role.",
        stage="Closed",
    ),
    Request(
        "Support", "email", "leo", None,
        "Fwd: Fwd: you have to see this",
        "Sent to the wrong address, sorry! Please ignore.",
        status="Deleted",
    ),
    # Billing
    Request(
        "Billing", "email", "erin", "Billing/Invoices",
        "Question about my last invoice",
        "Our last invoice has a line called 'service fee' that we have never seen "
        "before. What is it for?",
        stage="Review", tags=("invoice",), moved_from="Support",
    ),
    Request(
        "Billing", "email", "grace", "Billing/Invoices/Corrections",
        "Wrong VAT number on our invoice",
        "The invoice we received shows an old VAT number. Please reissue it with "
        "GB 123 4567 89.",
        tags=("invoice",),
    ),
    Request(
        "Billing", "phone", "karen", "Billing/Subscriptions/Upgrades",
        "What would the premium plan cost?",
        "Caller wants a price for the premium plan for one user, paid yearly.",
    ),
    Request(
        "Billing", "email", "frank", "Billing/Invoices/Corrections",
        "Invoice addressed to our old company name",
        "Our invoices still go to 'Northwind Trading Ltd'. We changed our name to "
        "Northwind Traders last year.",
        stage="Review", tags=("invoice",), regress=True,
    ),
    Request(
        "Billing", "email", "frank", "Billing/Invoices/Corrections",
        "Invoice addressed to the old company name (second request)",
        "Sending this again as I have not heard back: the invoice name is still wrong.",
        merge_into="Invoice addressed to our old company name",
    ),
    Request(
        "Billing", "email", "jonas", "Billing/Subscriptions/Cancellations",
        "Cancel our subscription at the end of the term",
        "We would like to cancel our warehouse subscription when the current term ends.",
        stage="Review", status="Waiting for customer",
    ),
    Request(
        "Billing", "email", "henrik", "Billing/Invoices",
        "Invoice total does not match the quote",
        "The quote said 4,200 but the invoice says 4,650. Could you check?",
        stage="Review", status="In review", tags=("invoice",),
    ),
    Request(
        "Billing", "email", "dan", "Billing/Invoices/Refunds",
        "Refund for a double charge",
        "Our card was charged twice for the same invoice. Please refund one of the "
        "payments.",
        stage="Refund approval", tags=("refund", "invoice"),
        link_to="Question about my last invoice",
    ),
    Request(
        "Billing", "email", "carol", "Billing/Invoices/Refunds",
        "Refund for an unused licence",
        "We bought one licence too many last month and never used it. Can we get a refund?",
        stage="Refund approval", tags=("refund",),
    ),
    Request(
        "Billing", "email", "ingrid", "Billing/Invoices/Corrections",
        "Please send invoices to our accounts address",
        "From now on, please send our invoices to accounts@contoso.example instead of "
        "to me.",
        stage="Closed",
    ),
    Request(
        "Billing", "phone", "leo", "Billing/Invoices/Refunds",
        "Refund for a licence bought by mistake last year",
        "Caller bought a second licence by mistake eleven months ago and wants a refund.",
        stage="Closed", resolved=False, tags=("refund",),
    ),
    Request(
        "Billing", "email", "erin", "Billing/Subscriptions/Upgrades",
        "Upgrade to 25 seats",
        "Please upgrade our subscription from 15 to 25 seats from next month.",
        stage="Closed",
    ),
    Request(
        "Billing", "email", "dan", None,
        "test",
        "test, please ignore",
        status="Deleted",
    ),
    # Field service
    Request(
        "Field service", "phone", "henrik", "Installation/Workstations/Docking stations",
        "Install docking stations for the new desks",
        "Caller needs ten docking stations installed on the new desks on the first floor.",
        tags=("on-site",),
    ),
    Request(
        "Field service", "email", "grace", "Hardware/Printers",
        "Printer makes a grinding noise",
        "The big printer in the warehouse office makes a loud grinding noise and then "
        "stops. I think it needs a technician.",
        tags=("on-site",),
    ),
    Request(
        "Field service", "email", "frank", "Installation/Meeting rooms/Displays",
        "Mount a display in meeting room C",
        "We bought a 65-inch display for meeting room C. Could someone mount it on the "
        "wall and connect it?",
        stage="Scheduling", tags=("on-site",),
    ),
    Request(
        "Field service", "phone", "karen", "Hardware/Laptops/Screens",
        "Cracked laptop screen at a home office",
        "Caller dropped her laptop; the screen is cracked. She works from home and cannot "
        "travel to the office this week.",
        stage="Scheduling", status="Waiting for customer", tags=("on-site", "warranty"),
    ),
    Request(
        "Field service", "email", "erin", "Hardware/Printers/Toner",
        "Replace the fuser unit of the office printer",
        "The print-outs smear and the printer shows 'replace fuser'. We have the part.",
        stage="Scheduling", tags=("on-site",), regress=True,
    ),
    Request(
        "Field service", "email", "jonas", "Installation/Workstations",
        "Move twelve desks to the second floor next month",
        "We are moving the planning team upstairs next month: twelve workstations with "
        "phones and docking stations.",
        stage="Scheduling", status="Postponed", tags=("on-site",),
    ),
    Request(
        "Field service", "internal", None, "Hardware/Network/Cabling",
        "Replace the failed switch in the server room",
        "The core switch at Contoso is down, which takes their mail with it. A spare is "
        "on its way; replace it on site.",
        stage="On site", tags=("outage", "on-site"), impact="high", urgency="high",
    ),
    Request(
        "Field service", "email", "jonas", "Hardware/Network/Wi-Fi",
        "Survey Wi-Fi coverage in the new warehouse",
        "Our new warehouse has no Wi-Fi in the back half. Could you survey it and tell us "
        "where access points should go?",
        stage="On site", tags=("on-site",),
    ),
    Request(
        "Field service", "email", "dan", "Installation/Workstations",
        "Set up six workstations for the sales team",
        "Six new workstations for sales arrive on Tuesday. Please set them up with "
        "monitors and phones.",
        stage="Report", tags=("on-site",),
    ),
    Request(
        "Field service", "phone", "ingrid", "Installation/Meeting rooms/Displays",
        "Video conferencing kit for the boardroom",
        "Caller wants the new camera and speaker bar installed in the boardroom before "
        "the board meeting.",
        stage="Report", status="In review", tags=("vip", "on-site"),
    ),
    Request(
        "Field service", "email", "grace", "Installation/Meeting rooms",
        "Projector in meeting room A does not turn on",
        "The projector in meeting room A shows no light at all. The power light is on.",
        stage="Closed", tags=("on-site",),
    ),
    Request(
        "Field service", "phone", "leo", "Hardware/Laptops",
        "Recover data from a dropped laptop",
        "Caller dropped his laptop down the stairs and it no longer starts. He needs the "
        "photos on it.",
        stage="Closed", resolved=False,
    ),
    Request(
        "Field service", "email", "henrik", "Hardware/Network/Cabling",
        "Network socket dead at desk 14",
        "The network socket at desk 14 gives no connection. The laptop works at other "
        "desks.",
        stage="Closed", tags=("on-site",),
    ),
    Request(
        "Field service", "phone", "karen", None,
        "Caller wanted a taxi company",
        "Wrong number: the caller was looking for a taxi.",
        status="Deleted",
    ),
]
# fmt: on

# Conversation snippets, picked with the seeded random generator. {name} is the
# contact's first name, {agent} the agent's.
FIRST_REPLIES = [
    "Hello {name},\n\nthank you for getting in touch. We are looking into it and will "
    "come back to you today.\n\nBest regards,\n{agent}",
    "Hello {name},\n\ncould you tell us when this started, and send a screenshot or a "
    "photo if you can?\n\nBest regards,\n{agent}",
]
FOLLOW_UP_REPLIES = [
    "Hello {name},\n\nwe have found the cause and are working on a fix. I will let you "
    "know as soon as it is done.\n\nBest regards,\n{agent}",
    "Hello {name},\n\nthanks for the details. I have passed this on to the right people "
    "and will keep you posted.\n\nBest regards,\n{agent}",
]
CLOSING_REPLIES = [
    "Hello {name},\n\nthis should be sorted now. If anything is still wrong, just reply "
    "to this email.\n\nBest regards,\n{agent}",
    "Hello {name},\n\nwe have fixed it on our side. Thanks for your patience!\n\nBest "
    "regards,\n{agent}",
]
UNRESOLVED_REPLIES = [
    "Hello {name},\n\nI am sorry, but we cannot do this: it is outside what we can "
    "recover or offer. I am closing the request.\n\nBest regards,\n{agent}",
]
CALLBACKS = [
    "Called {name} back and walked through the first checks together.",
    "Called {name}: agreed to try the workaround and report back tomorrow.",
]
CUSTOMER_REPLIES = [
    "Thanks. It happened again this morning, at about 9.",
    "Here are the details you asked for. Let me know if you need anything else.",
    "Any news on this? We are still stuck.",
    "Thank you, that helps. I will try it now.",
]
CUSTOMER_FOLLOW_UPS = [
    "Just checking that you got my message.",
    "One more thing: it also happens to a colleague of mine.",
]
NOTES = [
    "Checked the logs: nothing unusual on our side so far.",
    "Same problem reported last month; see the knowledge base article on it.",
    "Asked the supplier for an estimate; expect an answer within two working days.",
    "Customer prefers to be called rather than emailed.",
    "Spare part is in the store room, shelf B.",
]
REGRESS_REASONS = [
    "The fix did not help: the customer still sees the problem.",
    "Moved on too early; we still need the customer's details.",
    "The part has not arrived yet, so the visit is rescheduled.",
]

# Reply templates: (name, purpose, queue or None for every queue, subject, body).
REPLY_TEMPLATES = [
    (
        "We are on it",
        "reply",
        None,
        "",
        "Hello {contact_name},\n\nthank you for your message about {subject}. We are looking "
        "into it and will get back to you shortly.\n\nBest regards,\n{agent_name}",
    ),
    (
        "Solved, please confirm",
        "reply",
        None,
        "",
        "Hello {contact_name},\n\nwe believe {number} is solved. Please let us know if "
        "anything is still not working.\n\nBest regards,\n{agent_name}",
    ),
    (
        "Refund issued",
        "reply",
        "Billing",
        "",
        "Hello {contact_name},\n\nthe refund for {subject} has been issued; it reaches your "
        "account within five working days.\n\nKind regards,\n{agent_name}, Billing",
    ),
    (
        "Acknowledgement",
        "acknowledgement",
        None,
        "We received your request {number}",
        "Hello {contact_name},\n\nwe have received your request “{subject}” and registered it "
        "as {number}. You can follow it at {portal_link}.\n\nThe {queue} team",
    ),
]

# Signatures per queue.
SIGNATURES = {
    "Support": "--\nNorthwind IT Support · +1 555 0100",
    "Billing": "--\nBilling department · billing@helpdesk.example",
}

# A business-hours calendar: Billing counts its clocks in office hours only.
CALENDAR = {
    "name": "Office hours",
    "time_zone": "Europe/Oslo",
    "hours": [(weekday, "08:00", "17:00") for weekday in range(5)],  # Monday to Friday
    "holidays": [("2026-12-25", "Christmas Day"), ("2026-12-26", "Boxing Day")],
    "queues": ["Billing"],
}

# Escalation chains: priority → [(alert level, minutes, action, raise to)].
ESCALATION = {
    "Critical": [(1, 15, "notify_owner", None), (2, 30, "notify_team", None)],
    "High": [(1, 60, "notify_owner", None), (2, 120, "mark_unread", None)],
    "Medium": [(1, 480, "notify_owner", None), (2, 960, "raise_priority", "High")],
    "Low": [(1, 2880, "notify_owner", None)],
}
