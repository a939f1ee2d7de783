"""The banned-terms filter and the placeholder grammar of player-visible text."""

from __future__ import annotations

import pytest

from ouroboros.content import ALLOWED_PLACEHOLDERS, find_banned_terms, placeholder_problems
from ouroboros.content.text_checks import default_banned_terms


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("what a shit day", "shit"),
        ("SHIT", "shit"),
        ("Sh1t happens", "shit"),
        ("$hit happens", "shit"),
        ("sh!t happens", "shit"),
        ("s.h.i.t", "shit"),
        ("s-h-i-t!", "shit"),
        ("oh, shit.", "shit"),
        ("hello,shit", "shit"),
        ("(fuck)", "fuck"),
        ("fück", "fuck"),
        ("F*U*C*K", "fuck"),
        ("B4sT4rD", "bastard"),
        ("8itch", "bitch"),
        ("wh0r3", "whore"),
        ("sl|ut", "slut"),
        ("a wanker.", "wanker"),
    ],
)
def test_banned_terms_are_caught_through_disguises(text: str, term: str) -> None:
    assert find_banned_terms(text) == [term]


@pytest.mark.parametrize(
    "text",
    [
        "A classic assassin from Scunthorpe passes the class.",
        "Shitake mushrooms and a cocktail.",
        "Hello! Hell, it's 1337 o'clock, choom.",
        "Pay 500 credits, {player.name}.",
        "The therapist analysed the grapes.",
        "",
    ],
)
def test_ordinary_text_passes(text: str) -> None:
    assert find_banned_terms(text) == []


def test_custom_term_list() -> None:
    assert find_banned_terms("the Gr3mlin strikes", terms=["gremlin"]) == ["gremlin"]
    assert find_banned_terms("shit", terms=["gremlin"]) == []


def test_shipped_list_loads_as_package_data() -> None:
    terms = default_banned_terms()
    assert "shit" in terms and len(terms) > 20
    assert all(t.isalpha() and t == t.lower() for t in terms)


@pytest.mark.parametrize(
    "text",
    [
        "no placeholders",
        "Hi {player.name}, I'm {npc.name}.",
        "{credits} for {item.name} in {room.name}",
        "{quest.name}",
    ],
)
def test_good_placeholders(text: str) -> None:
    assert placeholder_problems(text) == []


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Hi {player.nam}", "unknown placeholder"),
        ("Hi {}", "unknown placeholder"),
        ("Hi { player.name }", "unknown placeholder"),
        ("Hi {player.name", "never closed"),
        ("Hi player.name}", "closes no placeholder"),
        ("Hi {{player.name}}", "not closed before"),
        ("{player.password}", "unknown placeholder"),
    ],
)
def test_bad_placeholders(text: str, fragment: str) -> None:
    problems = placeholder_problems(text)
    assert problems and fragment in problems[0]


def test_allowed_placeholders() -> None:
    assert {
        "player.name",
        "npc.name",
        "quest.name",
        "item.name",
        "room.name",
        "credits",
    } == ALLOWED_PLACEHOLDERS
