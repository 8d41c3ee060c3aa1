"""E-mail (.eml, RFC 5322/MIME): the headers a reader looks at, the body, and the attachments Nectar can read.

Sections: the header block, the body's paragraphs (its plain-text part, else its HTML part), then for each
readable attachment a level-1 heading `Attachment: <name>` followed by its text at level 0, so the `email`
chunk method (service/text/chunk.py) keeps the message and each attachment in chunks of their own.

The body and the attachments are read by `read(data, file name)`, the parser of every format (parse.parse,
handed in so this module does not import it back), against the same budget as the message. An attachment of
a type Nectar does not read, or a corrupt one, is skipped as RAGFlow does: the message is still worth reading.
One that breaks a limit fails the whole document.
"""

from __future__ import annotations

from collections.abc import Callable
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import cast

from service.errors import Invalid
from service.text.limits import Budget, LimitExceeded, ParseError
from service.text.sections import Parsed, Section

Reader = Callable[[bytes, str], Parsed]

# Transport headers (Received, DKIM-Signature, ...) say nothing a question would be about.
HEADERS = ("Subject", "From", "To", "Cc", "Date")


def parse_message(data: bytes, budget: Budget, read: Reader) -> Parsed:
    message = BytesParser(policy=policy.default).parsebytes(data)
    headers = "\n".join(f"{name}: {message[name]}" for name in HEADERS if message[name])
    sections = [Section(headers)] if headers else []
    body = message.get_body(preferencelist=("plain", "html"))
    if body is not None:
        sections.extend(_flat(read(_body_bytes(body), f"body.{_body_suffix(body)}").sections))
    for attachment in message.iter_attachments():
        budget.tick()
        sections.extend(_attachment_sections(attachment, read))
        budget.paragraphs(len(sections))
    return Parsed(sections=sections)


def _body_suffix(part: Message) -> str:
    return "html" if part.get_content_subtype() == "html" else "txt"


def _body_bytes(part: Message) -> bytes:
    """The body as UTF-8, decoded by its declared charset; the raw bytes when that charset is unknown or wrong."""
    try:
        return str(cast(EmailMessage, part).get_content()).encode()
    except (LookupError, UnicodeDecodeError):
        payload = part.get_payload(decode=True)
        return payload if isinstance(payload, bytes) else b""


def _attachment_sections(attachment: Message, read: Reader) -> list[Section]:
    name = attachment.get_filename() or ""
    payload = attachment.get_payload(decode=True)
    if not name or not isinstance(payload, bytes):  # unnamed, or a message/rfc822 part (not bytes)
        return []
    try:
        sections = read(payload, name).sections
    except LimitExceeded:  # the limits are the whole document's
        raise
    except (ParseError, Invalid):  # corrupt, or a type Nectar does not read
        return []
    return [Section(f"Attachment: {name}", heading_level=1), *_flat(sections)] if sections else []


def _flat(sections: list[Section]) -> list[Section]:
    """Headings inside the body or an attachment become body text: only attachments open a new part."""
    for section in sections:
        section.heading_level = 0
    return sections
