"""What several test modules share: helpers, never fixtures of their own and never tests.

Test modules import from here (``from tests.helpers.simulator import simulator_with``); they
never import a ``conftest`` or another ``test_*`` module (checked by ``tests/test_layout.py``).
Fixtures live in the conftests; the ones used in several folders live in ``tests/conftest.py``.
"""
