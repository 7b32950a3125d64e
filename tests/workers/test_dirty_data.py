"""Dirty data by the hundred: Hesk rows at every edge of their types, discovered and migrated
(real MariaDB with the real Hesk schema, the simulator over HTTP). Never a crash: every
record ends migrated, quarantined or skipped with a reason, and the report adds up.

``benchmarks/dirty_data.py`` runs the same with 10,000 records.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from hesk.kb import kb_category_loops
from simulator.testing import SimulatorHandle
from tests.helpers.dirty_migration import run_dirty
from tests.helpers.dirty_rows import HelpDesk, help_desk, one_ticket

#: Drawn help desks per run (each ~30-60 records; H2I_DIRTY_EXAMPLES for more).
EXAMPLES = int(os.environ.get("H2I_DIRTY_EXAMPLES", "6"))
#: Each example is a whole migration: shrinking a failure takes minutes, so it is asked for
#: (H2I_DIRTY_SHRINK=1); the failing example is printed either way.
PHASES = (Phase.explicit, Phase.generate) + (
    (Phase.shrink,) if os.environ.get("H2I_DIRTY_SHRINK") else ()
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# a NUL in a message reached the ledger, whose jsonb cannot hold one
@example(desks=[one_ticket(message="a\x00b", subject="\x00", u_name="x\x00")])
# a KB category that is its own parent, and two that are each other's, waited forever
@example(
    desks=[
        one_ticket(
            kb_categories=[
                {"id": 2, "name": "Self", "parent": 2, "cat_order": 1, "type": "0"},
                {"id": 3, "name": "A", "parent": 4, "cat_order": 2, "type": "0"},
                {"id": 4, "name": "B", "parent": 3, "cat_order": 3, "type": "0"},
                {"id": 5, "name": "Under A", "parent": 3, "cat_order": 4, "type": "0"},
            ]
        )
    ]
)
@given(desks=st.lists(help_desk(max_tickets=8), min_size=1, max_size=3))
def test_dirty_rows_never_crash_and_every_record_ends_with_a_reason(
    sim: SimulatorHandle, ledger_url: str, desks: list[HelpDesk]
) -> None:
    figures = run_dirty(sim, ledger_url, desks)
    assert figures["records"] > 0


def test_kb_category_loops_are_found_and_nothing_else() -> None:
    assert kb_category_loops({2: 2, 3: 4, 4: 3, 5: 3, 6: 0, 7: 1, 8: 99, 9: 8}) == {2, 3, 4}
