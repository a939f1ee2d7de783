"""A model as the evolution loop's coder: asked (role trait_code) with the host API and the
failed candidates' errors, its Lua goes through exactly the cascade the genetic coder's does, and
while the registry names no model the genetic coder works alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from ouroboros.ai.evolution import (
    EvolutionLoop,
    RegistryCoder,
    famine_world,
    model_hook,
    random_program,
    render,
)
from ouroboros.ai.evolution.model_coder import trait_prompt
from ouroboros.ai.llm import ModelRegistry, registry_patch
from ouroboros.ai.proposals import SeededDraws
from ouroboros.errors import LlmError
from tests.ai.evolution.test_loop import FAST
from tests.ai.llm.conftest import (
    Reply,
    Scripted,
    ollama_envelope,
)

GOOD = render(random_program(SeededDraws(3, "model-coder-test")))


class _Live:
    """The ``current()`` of a LiveRegistry, over a fixed registry."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry

    def current(self) -> ModelRegistry:
        return self.registry


@pytest.fixture
def live() -> Iterator[tuple[_Live, Scripted]]:
    """A registry whose trait_code role is a real local HTTP server speaking Ollama's protocol."""
    import threading

    from tests.ai.llm.conftest import _Handler, _Server

    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.script = Scripted()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    registry = ModelRegistry.from_content(
        registry_patch("trait_code", "ollama", "coder-1", base_url=f"http://{host!s}:{port}")
    )
    try:
        yield _Live(registry), httpd.script
    finally:
        registry.close()
        httpd.shutdown()
        httpd.server_close()


def _evaluations(loop: EvolutionLoop) -> list[dict[str, Any]]:
    return [e for e in loop.history(1000) if e["type"] == "evaluation"]


def test_without_a_model_the_genetic_coder_works_alone() -> None:
    registry = ModelRegistry()  # every role offline
    world = famine_world(1, 80)
    world.run(20)
    coder = RegistryCoder(_Live(registry))
    loop = EvolutionLoop(world, coder=coder, config=FAST)
    loop.trigger("no model")
    assert _evaluations(loop) and all(e["origin"] != "llm" for e in _evaluations(loop))
    assert coder.name == "offline-gp"
    registry.close()


def test_a_model_trait_goes_through_the_same_cascade_and_sees_the_errors(
    live: tuple[_Live, Scripted],
) -> None:
    registry, script = live
    script.replies.append(Reply(ollama_envelope(json.dumps({"lua": "function act(ctx) os.exit(1) end\n"}))))
    script.default = Reply(ollama_envelope(json.dumps({"lua": GOOD})))
    world = famine_world(1, 80)
    world.run(20)
    coder = RegistryCoder(registry)
    loop = EvolutionLoop(world, coder=coder, config=FAST)
    loop.trigger("starving")
    from_model = [e for e in _evaluations(loop) if e["origin"] == "llm"]
    assert from_model[0]["stage"] == "static"  # the hostile one stopped at the gate
    assert from_model[1]["stage"] == "shadow"  # the good one passed static, probe and replay
    prompts = [body["messages"][-1]["content"] for _path, body, _headers in script.requests]
    assert len(prompts) == 2 and "function act(ctx)" in prompts[0] and "ctx.energy" in prompts[0]
    assert "forbidden_name" in prompts[1]  # the errors of the failed candidate, fed back
    assert script.requests[0][1]["format"]["required"] == ["lua"]
    assert coder.name == "offline-gp+ollama/coder-1"


def test_a_model_that_fails_costs_its_candidate_never_the_cycle(live: tuple[_Live, Scripted]) -> None:
    registry, script = live
    script.default = Reply(b"{}", status=500)
    world = famine_world(1, 80)
    world.run(20)
    loop = EvolutionLoop(world, coder=RegistryCoder(registry, timeout_s=2), config=FAST)
    loop.trigger("starving")
    from_model = [e for e in _evaluations(loop) if e["origin"] == "llm"]
    assert from_model and all(e["ok"] is False for e in from_model)
    assert any(e["origin"] != "llm" for e in _evaluations(loop))  # the genetic coder went on


def test_the_prompt_lists_the_host_api_and_at_most_four_failures() -> None:
    failures = [{"stage": "static", "codes": [f"code{i}"], "messages": ["m"]} for i in range(9)]
    prompt = trait_prompt({"reason": "starving", "kpi": "starvation_deaths"}, failures, GOOD)
    assert "ctx.thrust_x[i]" in prompt and "starvation_deaths" in prompt and "os" in prompt
    assert prompt.count("- at static:") == 4


def test_an_answer_without_lua_is_an_error() -> None:
    class _NoLua:
        name = "x"

        def complete(self, request: Any) -> Any:
            from ouroboros.ai.llm import LlmResponse

            return LlmResponse("{}", {"code": "x"}, "x", "x", 0, 0, 0)

    with pytest.raises(LlmError, match="no Lua"):
        model_hook(_NoLua())({"reason": "r"}, [])
