"""Every cap that content obeys, in one frozen place, with the unit in each name.

The schemas read these numbers when their classes are built, so a cap is changed here or nowhere;
changing one changes the published JSON Schema, which needs a new ``SCHEMA_VERSION``.

Ratios are integer permille (1000 is 1.0) because content carries no floats: the engine state is
integer or fixed point, and a float in a patch would make two machines disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LIMITS", "ContentLimits"]


@dataclass(frozen=True)
class ContentLimits:
    # identifiers and text, in characters unless named otherwise
    max_id_chars: int = 64
    max_name_chars: int = 80
    max_description_chars: int = 2000
    max_dialogue_line_chars: int = 500
    max_tags_per_object: int = 16
    max_tag_chars: int = 32

    # patch size
    max_objects_per_domain: int = 1000
    max_removals_per_patch: int = 1000
    max_reasons_reported: int = 50

    # extensions: free-form JSON kept aside on items, rooms, npcs and quests
    max_extension_keys: int = 32
    max_extension_depth: int = 6
    max_extension_nodes: int = 256
    max_extension_string_chars: int = 2000

    # integers that must survive canonical JSON (RFC 8785) exactly
    max_abs_json_int: int = 2**53 - 1

    # items
    max_price_credits: int = 1_000_000
    max_item_damage: int = 1000
    max_item_armour: int = 1000
    max_item_accuracy_bonus: int = 100
    max_item_heal_hp: int = 1000

    # rooms
    max_threat_level: int = 10
    max_abs_coord_units: int = 100_000
    min_room_level: int = -16
    max_room_level: int = 128

    # npcs
    max_npc_level: int = 100
    max_npc_hp: int = 1_000_000
    max_npc_damage: int = 100_000
    max_npc_armour: int = 100_000
    max_npc_accuracy_percent: int = 100
    max_stock_items: int = 64
    max_drops: int = 32
    max_respawn_ticks: int = 10_000_000

    # npc behaviours
    max_behavior_states: int = 32
    max_transitions_per_state: int = 16
    max_plan_steps: int = 64
    max_plan_step_parents: int = 16

    # quests
    max_objectives: int = 16
    max_objective_count: int = 100
    max_reward_credits: int = 1_000_000
    max_reward_xp: int = 1_000_000
    max_reward_items: int = 16
    max_prerequisites: int = 16

    # dialogue
    max_dialogue_lines: int = 256
    max_next_lines: int = 8

    # economy: multipliers in permille, 250..4000 is 0.25x..4.0x
    min_multiplier_permille: int = 250
    max_multiplier_permille: int = 4000

    # procedural generation
    max_spawn_count: int = 50
    max_area_density_permille: int = 500
    max_recursion_depth: int = 4
    max_procgen_templates: int = 32

    # scripts
    max_script_source_bytes: int = 64 * 1024
    max_script_instructions_per_call: int = 10_000_000
    max_script_memory_bytes: int = 64 * 1024 * 1024

    # world parameters
    max_world_params: int = 64
    max_param_name_chars: int = 64


LIMITS = ContentLimits()
