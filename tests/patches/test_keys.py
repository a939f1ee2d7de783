"""Keys and keyrings: ids, domain rights, thresholds, TUF-style rotation, secrets never shown."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ouroboros.errors import KeyringError
from ouroboros.patches.keys import Keyring, SigningKey


def _ring(
    version: int, keys: dict[SigningKey, list[str]], signers: list[SigningKey], thresholds=None
) -> dict:
    doc = Keyring.unsigned(version, {k.keyid: k.public_entry(d) for k, d in keys.items()}, thresholds)
    for s in signers:
        doc = Keyring.sign_document(doc, s)
    return doc


def test_key_file_round_trip_is_private_and_repr_hides_the_secret(tmp_path: Path) -> None:
    key = SigningKey.generate("op")
    path = tmp_path / "op.key"
    key.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = SigningKey.load(path)
    assert loaded.keyid == key.keyid
    secret_b64 = path.read_text().split('"private":"')[1].split('"')[0]
    assert secret_b64 not in repr(loaded) and secret_b64 not in str(loaded)
    with pytest.raises(Exception, match="already exists"):
        key.save(path)


def test_tampered_key_file_is_refused(tmp_path: Path) -> None:
    key = SigningKey.generate("op")
    path = tmp_path / "op.key"
    key.save(path)
    other = SigningKey.generate("x")
    text = path.read_text().replace(key.keyid, other.keyid)
    path.write_text(text)
    with pytest.raises(KeyringError, match="keyid does not match"):
        SigningKey.load(path)


def test_first_keyring_must_be_self_signed() -> None:
    op = SigningKey.generate("op")
    with pytest.raises(KeyringError) as info:
        Keyring.trust_first(_ring(1, {op: ["*"]}, []))
    assert info.value.code == "keyring_threshold"
    assert Keyring.trust_first(_ring(1, {op: ["*"]}, [op])).version == 1


def test_rotation_needs_old_and_new_thresholds_and_the_next_version() -> None:
    op, gen, thief = SigningKey.generate("op"), SigningKey.generate("gen"), SigningKey.generate("thief")
    ring = Keyring.trust_first(_ring(1, {op: ["*"]}, [op]))
    assert ring.rotate(_ring(2, {op: ["*"], gen: ["items"]}, [op])).version == 2
    # a stranger cannot rotate trust to itself
    with pytest.raises(KeyringError) as info:
        ring.rotate(_ring(2, {thief: ["*"]}, [thief]))
    assert info.value.code == "keyring_threshold"
    # the old key alone cannot hand trust to keys that did not sign the new keyring
    with pytest.raises(KeyringError):
        ring.rotate(_ring(2, {gen: ["*"]}, [op]))
    assert ring.rotate(_ring(2, {gen: ["*"]}, [op, gen])).keys.keys() == {gen.keyid}
    # fast-forwarding the version is refused
    with pytest.raises(KeyringError) as info:
        ring.rotate(_ring(3, {op: ["*"]}, [op]))
    assert info.value.code == "keyring_version"


def test_rotation_with_a_threshold_of_two() -> None:
    a, b, c = (SigningKey.generate(n) for n in "abc")
    ring = Keyring.trust_first(_ring(1, {a: ["*"], b: ["*"]}, [a, b], {"*": 1, "keyring": 2}))
    with pytest.raises(KeyringError):
        ring.rotate(_ring(2, {a: ["*"], c: ["*"]}, [a, c], {"*": 1, "keyring": 2}))
    assert ring.rotate(_ring(2, {a: ["*"], c: ["*"]}, [a, b, c], {"*": 1, "keyring": 2})).version == 2


def test_signature_is_domain_separated_and_detects_any_change() -> None:
    op = SigningKey.generate("op")
    ring = Keyring.trust_first(_ring(1, {op: ["*"]}, [op]))
    doc = {"x": 1}
    sig = op.sign("bundle", doc)
    assert ring.valid_signers("bundle", doc, [sig])[0] == {op.keyid}
    assert ring.valid_signers("bundle", {"x": 2}, [sig])[0] == set()
    assert ring.valid_signers("keyring", doc, [sig])[0] == set()  # not replayable across kinds
    signers, problems = ring.valid_signers("bundle", doc, [{"keyid": "f" * 64, "sig": sig["sig"]}, "junk"])
    assert signers == set() and problems[0].startswith("unknown_key")


def test_domain_rights_and_thresholds() -> None:
    op, gen = SigningKey.generate("op"), SigningKey.generate("gen")
    ring = Keyring.trust_first(_ring(1, {op: ["*"], gen: ["items", "economy_tuning"]}, [op]))
    assert ring.count_allowed({gen.keyid}, "items") == 1
    assert ring.count_allowed({gen.keyid}, "scripts") == 0
    assert ring.threshold("economy_tuning") == 2 and ring.threshold("items") == 1
    assert ring.count_allowed({gen.keyid, op.keyid}, "economy_tuning") == 2
