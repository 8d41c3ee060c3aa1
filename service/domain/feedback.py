"""Feedback on an answer (thumbs up/down and a comment), from any face, kept where the LLMOps views search.

Besides the message's own `thumbup`/`feedback` columns (what RAGFlow's session view shows), a rated history
carries the system tag `feedback:like` or `feedback:dislike` (never both) and its comment as the metadata key
`feedback`, so `tag_name:"feedback:dislike"` finds the disliked answers, and datasets made from histories and
history exports carry the rating. Clearing a rating (`None`) removes the tag and the comment.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Assistant, ChatSession, Message, MessageTag, Tag, utcnow
from service.domain import conversations
from service.domain.system_tags import add_tag, ensure_tag, set_metadata
from service.errors import Invalid, NotFound

LIKE, DISLIKE = "feedback:like", "feedback:dislike"
COMMENT_KEY = "feedback"
MAX_COMMENT_BYTES = 65_535  # what a metadata value may hold
_TAGS = {
    True: (LIKE, "green", "system tag: a user liked this answer"),
    False: (DISLIKE, "red", "system tag: a user disliked this answer"),
}
RATINGS = {"like": True, "dislike": False}


def check_comment(value: Any, field: str = "feedback") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"`{field}` must be a string")
    if len(value.encode()) > MAX_COMMENT_BYTES:
        raise Invalid(f"`{field}` is {len(value.encode())} bytes; the limit is {MAX_COMMENT_BYTES}")
    return value


def check_thumbup(value: Any, nullable: bool = False) -> bool | None:
    if value is None and nullable:
        return None
    if not isinstance(value, bool):
        raise Invalid("`thumbup` must be a boolean" + (" or null" if nullable else ""))
    return value


def check_rating(value: Any) -> bool | None:
    """The apps face's `rating`: like | dislike | null (null clears)."""
    if value is None:
        return None
    if value not in RATINGS:
        raise Invalid("`rating` must be like, dislike or null")
    return RATINGS[value]


def history_rating(body: dict[str, Any]) -> tuple[bool | None, str | None]:
    """OpsBee's `{"thumbup": true|false|null, "feedback"?: "comment"}` (null clears; the key is required)."""
    if "thumbup" not in body:
        raise Invalid("`thumbup` is required: true, false, or null to clear the rating")
    return check_thumbup(body["thumbup"], nullable=True), check_comment(body.get("feedback"))


def app_rating(body: dict[str, Any]) -> tuple[bool | None, str | None]:
    """The apps face's `{"rating": "like"|"dislike"|null, "content"?: "comment"}` (Dify's message feedback)."""
    if "rating" not in body:
        raise Invalid("`rating` is required: like, dislike, or null to clear the rating")
    return check_rating(body["rating"]), check_comment(body.get("content"), "content")


async def apply_feedback(db: AsyncSession, message: Message, thumbup: bool | None, comment: str | None) -> Message:
    """Rate (or, with `thumbup` None, unrate) the message; the comment is kept only with a rating."""
    comment = comment if thumbup is not None else None
    message.thumbup, message.feedback = thumbup, comment or ""
    rated = select(Tag.id).where(Tag.tenant_id == message.tenant_id, Tag.name.in_((LIKE, DISLIKE)))
    await db.execute(delete(MessageTag).where(MessageTag.message_id == message.id, MessageTag.tag_id.in_(rated)))
    if thumbup is not None:
        name, color, text = _TAGS[thumbup]
        await add_tag(db, message, await ensure_tag(db, message.tenant_id, name, text, color))
    await set_metadata(db, message, COMMENT_KEY, comment or None)
    message.updated_at = utcnow()
    await db.flush()
    return message


async def set_session_feedback(
    db: AsyncSession, session: ChatSession, message_id: str, thumbup: Any, comment: Any = None
) -> Message:
    """RAGFlow's `PUT /chats/{c}/sessions/{s}/messages/{m}/feedback {"thumbup", "feedback"}`."""
    rating = check_thumbup(thumbup)
    text = check_comment(comment)
    return await apply_feedback(db, await conversations.get_message(db, session, message_id), rating, text)


async def app_message(db: AsyncSession, app: Assistant, message_id: str) -> Message:
    """A visible message of the app, from whichever of its conversations."""
    message = await db.scalar(
        select(Message).where(Message.id == message_id, Message.assistant_id == app.id, Message.deleted_at.is_(None))
    )
    if message is None:
        raise NotFound(f"Message {message_id} not found in app {app.id}")
    return message
