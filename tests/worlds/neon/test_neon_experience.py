"""The player experience service: profiles, quest recommendations, feedback and the challenge a
runner meets — deterministic world state, read by commands and the director's signals."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from neon_harness import City

from ouroboros.worlds.neon import experience
from ouroboros.worlds.neon.city import state
from ouroboros.worlds.neon.gameplay import kpis
from ouroboros.worlds.neon.tables import tables

SAM = "neon.room.st_10_11"


def test_a_profile_counts_time_buys_fights_and_deaths() -> None:
    city = City()
    city.enter("Alice")
    hz = tables(city.world).params["tick_hz"]
    city.walk_to("Alice", SAM)
    city.do("Alice", "buy stim pack", "buy energy bar", "buy energy bar")
    city.world.tick += 60 * hz  # a minute on (stepping 3,000 ticks would only be slower)
    alice = city.player("Alice")
    experience.fought(city.world, alice, "ganger")
    experience.died(city.world, alice)
    said = city.do("Alice", "profile")
    assert "Alice, level 1 (0 xp): 1 min in the city" in said
    assert "Bought: consumable 3." in said and "Taken down: ganger 1." in said
    # time online stops while she is away, and goes on when she is back
    city.game.leave("Alice")
    city.wait(1)
    city.world.tick += 120 * hz
    city.enter("Alice")
    assert "1 min in the city" in city.do("Alice", "profile")


def test_quest_suggest_puts_the_best_fit_first_and_the_fixer_names_it() -> None:
    city = City()
    city.enter("Alice")
    said = city.do("Alice", "quest suggest")
    lines = said.split("\n")[1:]
    assert lines[0].startswith("  Street Legs (level 1)")  # level 1 and the nearest fixer
    assert all("level 1" in line or "level 3" in line for line in lines)
    assert "Down the Drain" not in said  # not open to her: a prerequisite is missing
    city.walk_to("Alice", "neon.room.garage_workshop")
    assert "Scrap Drive (your best fit)" in city.do("Alice", "talk sparks")


def test_feedback_is_kept_categorised_scored_and_bounded() -> None:
    city = City()
    city.enter("Alice")
    assert "noted as bug" in city.do("Alice", "feedback the lift is broken and I'm stuck")
    assert "noted as balance" in city.do("Alice", "feedback the drain rats are too hard")
    assert "noted as praise" in city.do("Alice", "feedback love the rain, great city")
    assert "Feedback what?" in city.do("Alice", "feedback")
    k = kpis(city.world)
    assert (k["feedback_bug"], k["feedback_balance"], k["feedback_praise"], k["feedback_total"]) == (
        1,
        1,
        1,
        3,
    )
    kept = state(city.world)["feedback"]
    assert kept[-1]["player"] == "Alice" and kept[-1]["sentiment"] > 0 and kept[0]["sentiment"] < 0
    for i in range(experience.FEEDBACK_KEPT + 10):
        experience.add_feedback(city.world, city.player("Alice"), f"idea {i}: more noodle bars")
    assert len(state(city.world)["feedback"]) == experience.FEEDBACK_KEPT


@given(st.text(max_size=400))
def test_any_text_gets_a_category_and_a_bounded_sentiment(text: str) -> None:
    category, sentiment = experience.classify(text)
    assert category in experience.CATEGORIES and -100 <= sentiment <= 100


def test_the_lexicon_reads_negation_and_abuse() -> None:
    assert experience.classify("not fun at all")[1] < 0
    assert experience.classify("this is not bad")[1] > 0
    assert experience.classify("you are an idiot")[0] == "abuse"
    assert experience.classify("please add more quests in the sewers")[0] == "content"


def test_challenge_tells_a_struggling_runner_from_a_cruising_one() -> None:
    city = City()
    city.enter("Alice", "Bob")
    alice, bob = city.player("Alice"), city.player("Bob")
    assert experience.challenge(city.world, alice) == "fine"
    for _ in range(experience.STRUGGLING_DEATHS):
        experience.died(city.world, alice)
    for _ in range(experience.CRUISING_KILLS):
        experience.fought(city.world, bob, "ganger")
    assert experience.challenge(city.world, alice) == "struggling"
    assert experience.challenge(city.world, bob) == "cruising"
    city.wait(10)
    city.world.tick += experience.CHALLENGE_WINDOW_TICKS  # an hour later, both are old news
    assert experience.challenge(city.world, alice) == experience.challenge(city.world, bob) == "fine"
