"""Delta fixtures: each test changes its own Hesk database, so each gets a fresh one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.helpers.hesk import HeskSource, drop_source, make_source


@pytest.fixture
def own_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeskSource]:
    """A small help desk this test may write to."""
    source = make_source(tmp_path_factory, f"d{uuid.uuid4().hex[:6]}", tickets=20, seed=7)
    yield source
    drop_source(source)
