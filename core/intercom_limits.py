"""Intercom's limits, one constant each.

The planners, the client, the reports and the simulator import them from here so they
cannot drift apart; docs/intercom-client.md ("Intercom's limits") says where each comes from.
"""

from __future__ import annotations

#: Files in one part's ``attachment_files`` (and URLs in ``attachment_urls``): at most 10.
FILES_PER_PART = 10
#: Intercom answers a conversation with only its newest 500 parts.
PARTS_READ_BACK = 500
#: Largest ``per_page`` of a list or search.
MAX_PER_PAGE = 150
#: Filters in one search group, and how deep groups may nest.
SEARCH_FILTERS_PER_GROUP = 15
SEARCH_NESTING = 2
#: Largest request body (bytes) we assume Intercom accepts; larger bodies get a 413.
#: Intercom documents no figure: 50 MB holds a 25 MB file (the default
#: ``max_attachment_bytes``) as base64 with room to spare.
MAX_REQUEST_BYTES = 50 * 1024 * 1024
#: Characters of a ticket's title (``_default_title_``). Intercom documents no figure; 255
#: is the common text-column bound and what the simulator enforces (a longer subject is
#: cut by the planner, its full text kept in the description).
TICKET_TITLE_MAX = 255
#: Characters of an attribute's ``description`` (conversation and ticket type attributes).
ATTRIBUTE_DESCRIPTION_MAX = 255

#: Intercom counts calls in fixed windows of this many seconds (a minute's limit split in 6).
RATE_WINDOW_SECONDS = 10
#: Calls per minute of one private app (token), and of the whole workspace.
APP_CALLS_PER_MINUTE = 10_000
WORKSPACE_CALLS_PER_MINUTE = 25_000
#: The same limits per window, as Intercom's headers report them (rounded down).
APP_CALLS_PER_WINDOW = APP_CALLS_PER_MINUTE * RATE_WINDOW_SECONDS // 60
WORKSPACE_CALLS_PER_WINDOW = WORKSPACE_CALLS_PER_MINUTE * RATE_WINDOW_SECONDS // 60

#: Page sizes the in-doubt lookups ask for (within ``MAX_PER_PAGE``): a search by a
#: contact's ``external_id`` or e-mail expects one answer; a conversation or ticket
#: search by contact and second, or by tracking id, a few.
CONTACT_LOOKUP_PER_PAGE = 5
SEARCH_LOOKUP_PER_PAGE = 50
