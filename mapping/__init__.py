"""Pure mapping from Hesk records to Intercom payloads, and the proposed field map.

``mapping.plan`` holds the planners (records -> :class:`mapping.steps.Plan`),
``mapping.proposal`` the map proposal, ``mapping.mapfile`` its YAML form and hash,
``mapping.validation`` its checks, ``mapping.text`` the HTML conversions. Nothing here
does I/O.
"""
