"""The one static-check entry point for any script: ``check_script(language, source)``.

The governance pipeline's static-safety stage calls this and nothing else. It promises a list
of ``Fault``s (empty: the script passed) and never raises for anything a script's text can be;
an unknown language is itself a fault, so a caller cannot skip the gate by naming a new one.
"""

from __future__ import annotations

import hashlib

from ouroboros.sandbox.faults import Fault, FaultCode

LANGUAGES = ("lua", "python")


def check_script(language: str, source: str, *, script_id: str = "", version: str = "") -> list[Fault]:
    """Static faults of ``source`` written in ``language`` (``"lua"`` or ``"python"``)."""
    if language == "lua":
        from ouroboros.sandbox.lua_check import check_lua

        return check_lua(source, script_id=script_id, version=version)
    if language == "python":
        from ouroboros.sandbox.python_gate import check_python_trait

        return [
            f if (f.script_id, f.script_version) == (script_id, version) else _stamp(f, script_id, version)
            for f in check_python_trait(source)
        ]
    return [Fault(FaultCode.CONTRACT, f"unknown script language {language!r}", script_id, version)]


def _stamp(fault: Fault, script_id: str, version: str) -> Fault:
    return Fault(fault.code, fault.message, script_id, version, fault.entity, dict(fault.budget_used))


def source_digest(source: str) -> str:
    """The sha256 of a script's UTF-8 text: what duplicate detection keys on."""
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


__all__ = ["LANGUAGES", "check_script", "source_digest"]
