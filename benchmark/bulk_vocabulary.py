"""The words seed_bulk writes with, and the pools of texts it picks from.

Making a text costs far more than writing it, so texts are made once per load, a few
thousand per kind, and millions of messages pick from them. Each product has its own
subjects and bodies, so a request about the printer talks about the printer.

Three kinds of words matter to the search benchmark: common words ("please",
"printer") that are in a large share of the messages; accented words and names
("Müller", "café", "résumé", "naïve", "Ærø") that accent folding must match; and rare
tokens (error codes, order numbers, host names) that are each in only a handful of
messages.
"""

import bisect
import itertools
import random
import re
import unicodedata

# (product, weight, kind): printers and passwords are most of a helpdesk's day. The kind
# says which problems it can have and which answers fit.
PRODUCTS = [
    ("printer", 9, "device"),
    ("laptop", 7, "device"),
    ("password", 6, "account"),
    ("VPN", 5, "service"),
    ("mailbox", 4, "service"),
    ("Outlook client", 4, "service"),
    ("Wi-Fi", 4, "service"),
    ("invoice", 4, "billing"),
    ("monitor", 3, "device"),
    ("docking station", 3, "device"),
    ("phone", 3, "device"),
    ("shared drive", 3, "service"),
    ("calendar", 2, "service"),
    ("scanner", 2, "device"),
    ("licence", 2, "account"),
    ("subscription", 2, "billing"),
    ("router", 2, "device"),
    ("meeting room display", 2, "device"),
    ("badge reader", 1, "device"),
    ("payroll portal", 1, "service"),
    ("web shop order", 1, "billing"),
    ("CRM", 1, "service"),
    ("backup", 1, "service"),
    ("espresso machine in the café", 1, "device"),
    ("label printer in the Malmö warehouse", 1, "device"),
]
PROBLEMS = {
    "device": [
        "does not start",
        "is very slow",
        "shows an error",
        "makes a strange noise",
        "needs replacing",
        "keeps disconnecting",
        "stopped working after the update",
        "shows the wrong date",
    ],
    "service": [
        "cannot be reached",
        "keeps disconnecting",
        "is very slow",
        "shows an error",
        "stopped syncing",
        "asks for a password every few minutes",
        "stopped working after the update",
    ],
    "account": ["is locked", "has expired", "is not accepted", "is missing"],
    "billing": [
        "was charged twice",
        "is missing",
        "was never delivered",
        "shows the wrong amount",
        "shows the wrong date",
    ],
}
SUBJECTS = [
    "{P} {q}",
    "{P} {q}",
    "{P} {q}",
    "Urgent: {p} {q}",
    "{P} {q} since this morning",
    "Our {p} {q}",
    "Question about the {p}",
    "{P} {q} (again)",
    "Help needed: {p}",
]
# {p} the product, {q} the problem. "please" is in many of them on purpose: it is the
# search benchmark's common word, with "printer".
CUSTOMER_SENTENCES = [
    "Since this morning the {p} {q}.",
    "The {p} {q} and we cannot work.",
    "We tried again twice without any luck.",
    "Could you please have a look as soon as possible?",
    "Please let me know if you need more details.",
    "Please call me back when you have news.",
    "This blocks three people here.",
    "The error message says access denied.",
    "It worked fine until the update last week.",
    "Our order number is in the attachment.",
    "I have attached a screenshot of the problem.",
    "Thanks for the quick answer earlier.",
    "A colleague has the same problem with her {p}.",
    "Jürgen Müller from accounting sees the same thing.",
    "The {p} in the café on the ground floor is affected too.",
    "Here is a short résumé of what we tried: logging out, another computer, another user.",
    "Sorry if this is a naïve question, but is the {p} supposed to do this?",
    "Our branch office on Ærø cannot use the {p} either.",
    "Zoë at the front desk noticed it first.",
    "It only happens in the morning, before nine.",
    "We need this fixed before the end of the month, please.",
    "Is there a workaround we can use in the meantime?",
    "The same thing happened in March and you fixed it then.",
    "I am working from home today, so please email rather than call.",
]
GREETINGS = ["Hello,", "Hi,", "Hi team,", "Dear support,", "Good morning,", "Hello support,"]
CUSTOMER_CLOSINGS = ["Thanks,", "Thank you,", "Best regards,", "Kind regards,", "Cheers,"]
CUSTOMER_REPLIES = [
    "Thanks. It happened again this morning, at about nine.",
    "Here are the details you asked for. Let me know if you need anything else.",
    "Any news on this? We are still stuck.",
    "Thank you, that helps. I will try it now.",
    "I tried that, but the {p} still {q}.",
    "Please see the attached screenshot.",
    "It works again, thank you very much!",
    "One more thing: it also happens to a colleague of mine.",
    "Just checking that you got my message.",
    "Could you please give us an estimate of when this will be fixed?",
]
AGENT_REPLIES = {
    "any": [
        "thank you for reaching out. We are looking into the {p} now and will come back to "
        "you today.",
        "could you send us the exact error message and tell us when it started?",
        "we have found the cause and are working on a fix. I will let you know as soon as "
        "it is done.",
        "thanks for the details. I have passed this on to the right people and will keep "
        "you posted.",
    ],
    "device": [
        "we have replaced the {p}; please check whether it works again.",
        "a technician will visit you tomorrow morning to look at the {p}.",
        "please restart the {p} once more and tell us what you see.",
    ],
    "service": [
        "we have reset the settings of your {p}. Please try again and let us know.",
        "the {p} was down for maintenance; it is back now. Please try again.",
    ],
    "account": [
        "we have reset your {p}; you will get a new one by text message.",
        "your {p} has been renewed for another year.",
    ],
    "billing": [
        "the refund has been issued and should reach you within five working days.",
        "we have sent you a corrected {p}.",
    ],
}
AGENT_CLOSINGS = [
    "this should be sorted now. If anything is still wrong, just reply to this email.",
    "we have fixed it on our side. Thanks for your patience!",
    "I am closing this request now. Please reply if the {p} acts up again.",
]
NOTES = [
    "Checked the logs: nothing unusual on our side so far.",
    "Same problem reported last month; see the knowledge base article on the {p}.",
    "Asked the supplier for an estimate; expect an answer within two working days.",
    "Customer prefers to be called rather than emailed.",
    "Spare part is in the store room, shelf B.",
    "Called the customer back and walked through the first checks together.",
    "Known issue with the {p} since the last update; waiting for the vendor's patch.",
    "Escalated internally to the network team.",
]
FORWARDS = [
    "Could you have a look at the attached report about the {p}? The customer needs an "
    "answer this week.",
    "Please send us a quote for a new {p}.",
]
SUPPLIER_ANSWERS = [
    "We have looked into it: a replacement {p} ships tomorrow.",
    "The quote is attached; it is valid for thirty days.",
]

FIRST_NAMES = [
    "Anna", "Ben", "Carla", "David", "Emma", "Felix", "Grace", "Hugo", "Ida", "Jonas",
    "Karen", "Lars", "Maria", "Nils", "Olivia", "Peter", "Rosa", "Sam", "Tom", "Uma",
    "Jürgen", "Zoë", "Søren", "Anaïs", "José", "François", "Åsa", "Björn", "Chloé",
    "Mónica", "Renée", "Łukasz",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Jones", "Brown", "Taylor", "Wilson", "Evans", "Walsh", "Becker", "Dahl",
    "Weber", "Patel", "Martins", "Okafor", "Lindqvist", "Moreau", "Hansen", "Novak",
    "Müller", "Østergaard", "Núñez", "Lefèvre", "Dvořák", "Brontë", "Åkesson", "Schäfer",
    "Gonçalves",
]  # fmt: skip
COMPANY_NAMES = [
    "Nordwind", "Blåbær", "Café Ærø", "Müller & Söhne", "Lumière", "Fjordside",
    "Alpenglühen", "Sørensen", "Crêperie Bretonne", "Atlas", "Harbourview", "Keystone",
    "Riverside", "Summit", "Oakridge", "Brightwater", "Kongsberg", "Saint-Étienne",
    "Zürichsee", "Greenfield", "Lakeshore", "Polaris", "Bergen", "Vinterhage",
]  # fmt: skip
COMPANY_TRADES = [
    "Logistics", "Software", "Bakery", "Consulting", "Printing", "Dental", "Architects",
    "Freight", "Media", "Insurance", "Foods", "Engineering", "Hotels", "Pharmacy",
]  # fmt: skip
COMPANY_FORMS = ["GmbH", "AS", "ApS", "Ltd", "SARL", "AB", "BV", "Inc."]

# (filename, content type, typical size in bytes)
ATTACHMENTS = [
    ("screenshot.png", "image/png", 350_000),
    ("photo.jpg", "image/jpeg", 1_800_000),
    ("error.png", "image/png", 120_000),
    ("invoice.pdf", "application/pdf", 90_000),
    ("Rechnung_Müller.pdf", "application/pdf", 110_000),
    ("quote.pdf", "application/pdf", 240_000),
    ("event-log.txt", "text/plain", 40_000),
    ("setup.log", "text/plain", 600_000),
    (
        "report.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        55_000,
    ),
    ("inventory.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 70_000),
    ("résumé_of_steps.txt", "text/plain", 3_000),
]

# Words the search benchmark can look for. COMMON_WORDS are in many templates above;
# sample_search_words() picks whichever of them is really most common in the data.
COMMON_WORDS = ["please", "printer", "thanks", "error", "password"]
ACCENTED_WORDS = ["Müller", "café", "résumé", "naïve", "Ærø", "Zoë"]

RARE_SENTENCES = [
    "The event log shows error {token} every time.",
    "Windows Update fails with error {token}.",
    "This is about our order {token}.",
    "It only happens on the host {token}.",
]
SITES = ["ams", "osl", "fra", "lon", "cph", "sto"]


class RareTokens:
    """Tokens each written into only a handful of messages: error codes (0x8007A3F1),
    order numbers (PO-4711-0042) and host names (ws-3fa9c1.osl.corp.example).

    A token is drawn at random (32 bits of it, so tokens of different loads do not
    meet) and used 1 to 5 times, then the next one is drawn."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.sentence = ""
        self.uses_left = 0
        self.drawn = 0

    def next_sentence(self) -> str:
        if self.uses_left == 0:
            self.sentence = self._draw()
            self.uses_left = self.rng.randint(1, 5)
        self.uses_left -= 1
        return self.sentence

    def _draw(self) -> str:
        rng, kind = self.rng, self.drawn % 4
        self.drawn += 1
        bits = rng.getrandbits(32)
        if kind < 2:
            token = f"0x{bits:08X}"
        elif kind == 2:
            token = f"PO-{bits % 10_000:04d}-{bits // 10_000 % 10_000:04d}"
        else:
            token = f"ws-{bits:08x}.{rng.choice(SITES)}.corp.example"
        return RARE_SENTENCES[kind].format(token=token)


class Weighted:
    """Draws one of weighted values; like random.choices, with the sums worked out once."""

    def __init__(self, weights: dict):
        self.values = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random):
        return self.values[bisect.bisect(self.cumulative, rng.random() * self.total)]


class TextPools:
    """Subjects and bodies made once per load, per product, for the loader to pick from."""

    BODIES_PER_PRODUCT = 120
    SUBJECTS_PER_PRODUCT = 40

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.products = [name for name, _, _ in PRODUCTS]
        self.product = Weighted({n: weight for n, (_, weight, _) in enumerate(PRODUCTS)})
        self.subjects, self.customer_bodies, self.customer_replies = [], [], []
        self.agent_replies, self.agent_closings, self.notes = [], [], []
        self.forwards, self.supplier_answers = [], []
        for product, _, kind in PRODUCTS:
            problems = PROBLEMS[kind]
            self.subjects.append(self._subjects(product, problems))
            self.customer_bodies.append(self._customer_bodies(product, problems))
            self.customer_replies.append(self._fill(CUSTOMER_REPLIES, product, problems))
            replies = AGENT_REPLIES["any"] + AGENT_REPLIES[kind]
            self.agent_replies.append(self._fill(replies, product, problems))
            self.agent_closings.append(self._fill(AGENT_CLOSINGS, product, problems))
            self.notes.append(self._fill(NOTES, product, problems))
            self.forwards.append(self._fill(FORWARDS, product, problems))
            self.supplier_answers.append(self._fill(SUPPLIER_ANSWERS, product, problems))

    def _subjects(self, product: str, problems: list[str]) -> list[str]:
        rng, capitalised = self.rng, product[0].upper() + product[1:]
        return [
            rng.choice(SUBJECTS).format(p=product, P=capitalised, q=rng.choice(problems))
            for _ in range(self.SUBJECTS_PER_PRODUCT)
        ]

    def _customer_bodies(self, product: str, problems: list[str]) -> list[str]:
        rng = self.rng
        bodies = []
        for _ in range(self.BODIES_PER_PRODUCT):
            problem = rng.choice(problems)
            sentences = [CUSTOMER_SENTENCES[0]] + rng.sample(
                CUSTOMER_SENTENCES[1:], k=rng.randint(1, 5)
            )
            text = " ".join(s.format(p=product, q=problem) for s in sentences)
            bodies.append(f"{rng.choice(GREETINGS)}\n\n{text}")
        return bodies

    def _fill(self, templates: list[str], product: str, problems: list[str]) -> list[str]:
        return [t.format(p=product, q=self.rng.choice(problems)) for t in templates]


# Letters that do not decompose into a base letter and an accent.
UNDECOMPOSABLE = str.maketrans(
    {"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "ß": "ss", "ł": "l", "Ł": "l"}
)


def slug(text: str) -> str:
    """ "Søren Østergaard" → "soren-ostergaard": for email addresses and domains."""
    decomposed = unicodedata.normalize("NFKD", text.translate(UNDECOMPOSABLE))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")
