"""Conversation operations: the threads of Hesk tickets.

Every admin reply is sent with ``skip_notifications: true``: an import must never e-mail a
customer. Contact-authored parts are the customer's own words and notify nobody.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from typing import Literal

from core.intercom_limits import MAX_PER_PAGE
from intercom_api.base import BaseClient, Json
from intercom_api.contacts import _seg

AdminMessageType = Literal["comment", "note"]
AssigneeType = Literal["admin", "team"]


def attachment_file(name: str, content_type: str, data: bytes) -> Json:
    """One entry of ``attachment_files``: the file inlined as base64 (max 10 per part)."""
    return {
        "name": name,
        "content_type": content_type,
        "data": base64.b64encode(data).decode("ascii"),
    }


class ConversationsAPI(BaseClient):
    """Conversations and their parts."""

    def create_conversation(
        self,
        from_contact_id: str,
        body: str,
        created_at: int,
        *,
        from_type: Literal["user", "lead", "contact"] = "user",
        attachment_urls: Sequence[str] | None = None,
    ) -> Json:
        """Start a conversation as the contact, back-dated to ``created_at``.

        Intercom answers with the *message*, not the conversation; its
        ``conversation_id`` (always a string here) is what later calls need.
        """
        payload: Json = {
            "from": {"type": from_type, "id": from_contact_id},
            "body": body,
            "created_at": int(created_at),
        }
        if attachment_urls:
            payload["attachment_urls"] = list(attachment_urls)
        message = self.post("/conversations", payload)
        if message.get("conversation_id") is not None:
            message["conversation_id"] = str(message["conversation_id"])
        return message

    def reply_as_contact(
        self,
        conversation_id: str,
        contact_id: str,
        body: str,
        created_at: int,
        attachment_files: Sequence[Json] | None = None,
    ) -> Json:
        """Add the contact's reply, back-dated; returns the whole conversation."""
        payload: Json = {
            "message_type": "comment",
            "type": "user",
            "intercom_user_id": contact_id,
            "body": body,
            "created_at": int(created_at),
        }
        if attachment_files:
            payload["attachment_files"] = list(attachment_files)
        return self.post(f"/conversations/{_seg(conversation_id)}/reply", payload)

    def reply_as_admin(
        self,
        conversation_id: str,
        admin_id: str | int,
        body: str,
        created_at: int,
        message_type: AdminMessageType = "comment",
        attachment_files: Sequence[Json] | None = None,
    ) -> Json:
        """Add a teammate's reply or internal note, back-dated, notifying nobody."""
        if message_type not in ("comment", "note"):
            raise ValueError(f"message_type must be 'comment' or 'note', not {message_type!r}")
        payload: Json = {
            "message_type": message_type,
            "type": "admin",
            "admin_id": str(admin_id),
            "body": body,
            "created_at": int(created_at),
            "skip_notifications": True,
        }
        if attachment_files:
            payload["attachment_files"] = list(attachment_files)
        return self.post(f"/conversations/{_seg(conversation_id)}/reply", payload)

    def close_conversation(self, conversation_id: str, admin_id: str | int) -> Json:
        """Close the conversation as this admin (stamped at migration time)."""
        payload = {"message_type": "close", "type": "admin", "admin_id": str(admin_id)}
        return self.post(f"/conversations/{_seg(conversation_id)}/parts", payload)

    def open_conversation(self, conversation_id: str, admin_id: str | int) -> Json:
        """Reopen the conversation as this admin."""
        payload = {"message_type": "open", "admin_id": str(admin_id)}
        return self.post(f"/conversations/{_seg(conversation_id)}/parts", payload)

    def assign_conversation(
        self,
        conversation_id: str,
        admin_id: str | int,
        assignee_id: str | int,
        assignee_type: AssigneeType = "admin",
    ) -> Json:
        """Assign the conversation to an admin or a team (``assignee_id`` 0 unassigns)."""
        payload = {
            "message_type": "assignment",
            "type": assignee_type,
            "admin_id": str(admin_id),
            "assignee_id": str(assignee_id),
        }
        return self.post(f"/conversations/{_seg(conversation_id)}/parts", payload)

    def update_conversation(
        self,
        conversation_id: str,
        title: str | None = None,
        custom_attributes: Json | None = None,
    ) -> Json:
        """Set the title and/or custom attributes (idempotent)."""
        payload: Json = {}
        if title is not None:
            payload["title"] = title
        if custom_attributes is not None:
            payload["custom_attributes"] = custom_attributes
        return self.put(f"/conversations/{_seg(conversation_id)}", payload)

    def get_conversation(self, conversation_id: str, *, plaintext: bool = False) -> Json:
        """The conversation with its parts (only the 500 most recent parts)."""
        params = {"display_as": "plaintext"} if plaintext else None
        return self.get(f"/conversations/{_seg(conversation_id)}", params)

    def delete_conversation(self, conversation_id: str) -> Json:
        """Delete the conversation for good."""
        return self.delete(f"/conversations/{_seg(conversation_id)}")

    def search_conversations(self, query: Json, *, per_page: int = MAX_PER_PAGE) -> Iterator[Json]:
        """Every conversation matching a search filter."""
        return self.search("/conversations/search", query, "conversations", per_page=per_page)

    def tag_conversation(
        self, conversation_id: str, tag_id: str | int, admin_id: str | int
    ) -> Json:
        """Attach a tag to the conversation (attaching twice is harmless)."""
        payload = {"id": str(tag_id), "admin_id": str(admin_id)}
        return self.post(f"/conversations/{_seg(conversation_id)}/tags", payload, idempotent=True)
