"""The dashboard's live view draws whatever worlds ``go`` runs: here WolfSheep and Flocking (a real
``ouroboros go --world wolfsheep,flocking`` and a real browser). Each gets a panel, a canvas that
draws its frames (dots that move) and a legend that says what the dots are."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_dashboard import wait_until

pytestmark = pytest.mark.slow

GO_ARGS = ["--world", "wolfsheep,flocking", "--seed", "7", "--ticks-per-second", "10"]


@pytest.mark.parametrize(
    ("world", "legend"), [("wolfsheep", ("sheep", "wolf", "grass")), ("flocking", ("bird",))]
)
def test_the_live_view_draws_each_world_that_runs(page: Any, world: str, legend: tuple[str, ...]) -> None:
    page.get_by_test_id("nav-live").click()
    canvas = page.get_by_test_id(f"{world}-canvas")
    wait_until(lambda: int(canvas.get_attribute("data-draws") or 0) >= 3, f"{world}'s first frames drawn")
    assert int(canvas.get_attribute("data-entities") or 0) > 0
    # frames are offered after ticks only (a binary frame carries no tick): more draws, more ticks
    first = int(canvas.get_attribute("data-draws") or 0)
    wait_until(lambda: int(canvas.get_attribute("data-draws") or 0) >= first + 5, f"{world} moving on")
    assert canvas.get_attribute("data-errors") == "0"
    text = page.get_by_test_id(f"legend-{world}").inner_text()
    assert all(word in text for word in legend), text
    assert page.get_by_test_id("panel-neon").count() == 0  # only what runs is shown
    shot(page, f"live-{world}")
