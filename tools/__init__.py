"""Authoring scripts: they write files the package ships (neon's base content) and are not part of it.

Run one from the repository root, e.g. ``python -m tools.author_neon_base``.
"""
