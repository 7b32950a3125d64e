"""Writes a Hesk user would make, straight into the real Hesk database (for delta tests)."""

from __future__ import annotations

from typing import Any

import pymysql


class HeskWriter:
    """A write connection to a test Hesk database (the migration itself only reads)."""

    def __init__(self, url: str) -> None:
        self.db = url.rsplit("/", 1)[1]
        self.conn = pymysql.connect(
            host="127.0.0.1",
            user="root",
            database=self.db,
            autocommit=True,
            cursorclass=pymysql.cursors.DictCursor,
        )
        with self.conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")

    def query(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        """Run one statement; its rows."""
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def add_reply(self, ticket_id: int, text: str, staff_id: int = 1) -> int:
        """A staff reply now; bumps the ticket as Hesk does."""
        self.query(
            "INSERT INTO hesk_replies (replyto, message, message_html, dt, attachments, "
            "staffid, `read`) VALUES (%s, %s, %s, UTC_TIMESTAMP(), '', %s, '0')",
            ticket_id,
            text,
            f"<p>{text}</p>",
            staff_id,
        )
        rid = int(self.query("SELECT LAST_INSERT_ID() AS i")[0]["i"])
        self.query(
            "UPDATE hesk_tickets SET replies = replies + 1, staffreplies = "
            "staffreplies + 1, lastreplier = '1' WHERE id = %s",
            ticket_id,
        )
        return rid

    def set_subject(self, ticket_id: int, subject: str) -> None:
        """Rename a ticket."""
        self.query("UPDATE hesk_tickets SET subject = %s WHERE id = %s", subject, ticket_id)

    def close(self, ticket_id: int) -> None:
        """Resolve a ticket (status 3), as Hesk does."""
        self.query(
            "UPDATE hesk_tickets SET status = 3, closedat = UTC_TIMESTAMP(), "
            "closedby = 1 WHERE id = %s",
            ticket_id,
        )

    def reopen(self, ticket_id: int) -> None:
        """Reopen a resolved ticket: ``closedat``/``closedby`` are cleared."""
        self.query(
            "UPDATE hesk_tickets SET status = 1, closedat = NULL, closedby = NULL WHERE id = %s",
            ticket_id,
        )

    def copy_ticket(self, ticket_id: int, trackid: str) -> int:
        """A new ticket copied from another one (same requester), created now."""
        cols = [
            c["Field"]
            for c in self.query("SHOW COLUMNS FROM hesk_tickets")
            if c["Field"] not in ("id", "trackid", "lastchange", "dt")
        ]
        names = ", ".join(f"`{c}`" for c in cols)
        self.query(
            f"INSERT INTO hesk_tickets (trackid, dt, lastchange, {names}) "
            f"SELECT %s, UTC_TIMESTAMP(), UTC_TIMESTAMP(), {names} FROM hesk_tickets "
            "WHERE id = %s",
            trackid,
            ticket_id,
        )
        return int(self.query("SELECT LAST_INSERT_ID() AS i")[0]["i"])

    def delete_ticket(self, ticket_id: int) -> None:
        """Delete a ticket and its replies and notes, as Hesk does."""
        for table, col in (
            ("hesk_replies", "replyto"),
            ("hesk_notes", "ticket"),
            ("hesk_tickets", "id"),
        ):
            self.query(f"DELETE FROM {table} WHERE {col} = %s", ticket_id)

    def retitle_article(self, article_id: int, title: str) -> None:
        """Rename a KB article."""
        self.query("UPDATE hesk_kb_articles SET subject = %s WHERE id = %s", title, article_id)

    def close_connection(self) -> None:
        """Close the connection."""
        self.conn.close()
