"""What an SMS may hold: its encoding, its segments, and the number it goes to.

The rules a text message obeys wherever it is written (the desk's counter, the workflow's
refusal, the API): GSM 03.38 text takes 160 characters in one message and 153 in each
part of a longer one; anything outside that alphabet sends the whole message as UCS-2, 70
characters in one and 67 per part. Delivery itself is the `sms` app's.
"""

from dataclasses import dataclass

import phonenumbers
from django.conf import settings

# GSM 03.38's basic alphabet, and the extension table whose characters take two septets
# (an escape and the character).
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    length: int  # in the encoding's units: septets for GSM-7, UTF-16 code units for UCS-2
    count: int  # how many messages the phone network carries it in
    per_segment: int

    @property
    def left(self) -> int:
        """Units left in the last segment before another one starts."""
        return self.count * self.per_segment - self.length if self.count else self.per_segment


def segments(text: str) -> Segments:
    """How the network would carry this text."""
    if all(char in GSM_BASIC or char in GSM_EXTENDED for char in text):
        length = sum(2 if char in GSM_EXTENDED else 1 for char in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        # characters beyond the BMP (emoji) take two UTF-16 units
        length = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    if length <= single:
        return Segments(encoding, length, 1 if length else 0, single)
    return Segments(encoding, length, -(-length // part), part)


def max_segments() -> int:
    return settings.SMS_MAX_SEGMENTS


def too_long(text: str) -> str:
    """Why this text cannot go as one SMS, or "" when it can."""
    parts = segments(text)
    if parts.count <= max_segments():
        return ""
    return (
        f"The SMS is {parts.length} characters ({parts.encoding}), {parts.count} messages; "
        f"at most {max_segments()} may be sent ({max_segments() * parts.per_segment} "
        f"characters{'' if parts.encoding == 'GSM-7' else ' with these characters'})."
    )


class InvalidNumber(ValueError):
    pass


def normalise_number(text: str, *, region: str | None = None) -> str:
    """The number in E.164 (+4930…), read as a number of `region` (SMS_DEFAULT_REGION)
    when it has no country code. Raises InvalidNumber with a reason a person can act on."""
    text = (text or "").strip()
    if not text:
        raise InvalidNumber("No phone number given.")
    if text.startswith("00"):  # the international prefix of most of the world, for "+"
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region or settings.SMS_DEFAULT_REGION or None)
    except phonenumbers.NumberParseException as error:
        raise InvalidNumber(
            f"“{text}” is not a phone number: write it with its country code, e.g. +49 30 1234567."
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidNumber(f"“{text}” is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
