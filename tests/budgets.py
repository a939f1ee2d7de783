"""The governance pipeline's tick budget for tests that are not about it.

The determinism stage rejects a patch whose p95 tick time is over ``tick_budget_ms`` (250 ms by
default): a wall-clock limit, right for a running world, but a test on a loaded CI machine can see
one of a handful of neon ticks starved past it. Tests of other stages use this generous budget;
the tests of the budget itself set their own (``tests/patches/test_stages.py``,
``tests/server/api/test_runtime_state.py``).
"""

SLOW_MACHINE_TICK_MS = 60_000.0
