"""Tests for the pseudonymisation key: files, the demo key, fingerprints."""

from __future__ import annotations

import os
import stat
import warnings

import pytest

from rehab_analytics.errors import ConfigError, KeyMissingError
from rehab_analytics.keys import (
    DEMO_KEY_NAME,
    SAMPLE_MARKER,
    KeyPermissionWarning,
    ResolvedKey,
    key_fingerprint,
    resolve_key,
    write_demo_key,
    write_key_file,
)
from rehab_analytics.sample import write_sample


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No key in the environment and a key-file location that does not exist."""
    monkeypatch.delenv("RA_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("RA_KEY_FILE", str(tmp_path / "cfg" / "pseudonym.key"))
    return tmp_path / "cfg" / "pseudonym.key"


def test_write_key_file_creates_0600_file_and_0700_parent(tmp_path):
    """The key file is 64 hex characters, mode 0600, in a new 0700 folder."""
    path = write_key_file(tmp_path / "new" / "pseudonym.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(path.read_text().strip()) == 64


def test_write_key_file_refuses_to_overwrite(tmp_path):
    """An existing key is kept unless force is given."""
    path = write_key_file(tmp_path / "pseudonym.key")
    first = path.read_text()
    with pytest.raises(ConfigError, match="already exists.*--force"):
        write_key_file(path)
    assert path.read_text() == first
    os.chmod(path, 0o644)
    write_key_file(path, force=True)
    assert path.read_text() != first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_write_key_file_default_path_from_settings(clean_env):
    """Without a path, the key goes to RA_KEY_FILE."""
    assert write_key_file() == clean_env
    assert clean_env.is_file()


def test_resolve_key_from_file(clean_env):
    """A key file is used when no environment key is set."""
    write_key_file(clean_env)
    resolved = resolve_key()
    assert (resolved.origin, resolved.path) == ("file", clean_env)
    assert resolved.key == clean_env.read_text().strip().encode()


def test_resolve_key_environment_wins(clean_env, monkeypatch):
    """RA_PSEUDONYM_KEY takes precedence over the key file."""
    write_key_file(clean_env)
    monkeypatch.setenv("RA_PSEUDONYM_KEY", "e" * 40)
    assert resolve_key() == ResolvedKey(b"e" * 40, "environment", None)


def test_resolve_key_short_environment_key_is_an_error(clean_env, monkeypatch):
    """A too short environment key is refused without showing it."""
    monkeypatch.setenv("RA_PSEUDONYM_KEY", "tooshortsecret")
    with pytest.raises(ConfigError, match="at least 32") as info:
        resolve_key()
    assert "tooshortsecret" not in str(info.value)


def test_resolve_key_warns_on_loose_permissions(clean_env):
    """A key file readable by others gives a KeyPermissionWarning naming chmod 600."""
    write_key_file(clean_env)
    os.chmod(clean_env, 0o644)
    with pytest.warns(KeyPermissionWarning, match=f"chmod 600 {clean_env}"):
        resolve_key()


def test_resolve_key_no_warning_on_0600(clean_env):
    """A 0600 key file is read silently."""
    write_key_file(clean_env)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolve_key()


def test_resolve_key_demo_only_for_sample_folders(clean_env, tmp_path):
    """The demo key is used only when the raw folder is unchanged sample data."""
    raw = tmp_path / "raw"
    raw.mkdir()
    demo = write_demo_key(raw)
    assert demo == raw / DEMO_KEY_NAME
    assert stat.S_IMODE(demo.stat().st_mode) == 0o600
    with pytest.raises(KeyMissingError):
        resolve_key(raw)
    (raw / SAMPLE_MARKER).write_text("{}")
    with pytest.raises(KeyMissingError, match="sample data written by"):
        resolve_key(raw)  # a bare marker is not enough: it must hash the files


def test_demo_key_only_for_the_files_the_generator_wrote(clean_env, tmp_path):
    """A real file dropped into a sample folder (or a changed file) needs a real key."""
    raw = tmp_path / "raw"
    write_sample(raw, participants=60)
    assert resolve_key(raw).origin == "demo"
    (raw / "_sources").mkdir()
    (raw / "_sources" / "x.toml").write_text("# a description holds no data\n")
    assert resolve_key(raw).origin == "demo"
    real = raw / "nordost" / "real-delivery.xlsx"
    real.parent.mkdir(exist_ok=True)
    real.write_bytes(b"PK\x03\x04 not sample data")
    with pytest.raises(KeyMissingError, match="a demo key is used only"):
        resolve_key(raw)
    real.unlink()
    victim = next(p for p in raw.rglob("*.csv"))
    victim.write_bytes(victim.read_bytes() + b"\n")
    with pytest.raises(KeyMissingError):
        resolve_key(raw)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"\x00\xff\xfe binary" * 8, "does not hold a text key"),
        (b"short\n", "holds 5 characters"),
        (b"x" * 10_000, "bytes; a key file holds one line"),
    ],
)
def test_unusable_key_files_get_named_messages(clean_env, content, match):
    """Binary, too short and oversized key files are refused with what to do."""
    clean_env.parent.mkdir(parents=True, exist_ok=True)
    clean_env.write_bytes(content)
    os.chmod(clean_env, 0o600)
    with pytest.raises(ConfigError, match=match) as info:
        resolve_key()
    assert "keygen" in str(info.value) or "RA_KEY_FILE" in str(info.value)


def test_unreadable_key_file_is_a_named_error(clean_env):
    """A key file path that is a folder (cannot be read) gives a ConfigError."""
    clean_env.mkdir(parents=True)
    with pytest.raises(ConfigError, match="cannot be read"):
        resolve_key()


def test_fingerprint_identifies_the_key_without_revealing_it():
    """Same key, same fingerprint; another key, another; the key is not in it."""
    key = b"0123456789abcdef" * 4
    fp = key_fingerprint(key)
    assert fp == ResolvedKey(key, "file").fingerprint
    assert fp != key_fingerprint(key[::-1])
    assert key.decode()[:8] not in fp and len(fp) == 16


def test_resolve_key_missing_explains_what_to_do(clean_env, tmp_path):
    """The error names where it looked, keygen, the env var and the no-key rule."""
    with pytest.raises(KeyMissingError) as info:
        resolve_key(tmp_path / "raw")
    message = str(info.value)
    for part in ("RA_PSEUDONYM_KEY", str(clean_env), "rehab-analytics keygen", "never"):
        assert part in message


def test_key_never_in_repr(clean_env, monkeypatch):
    """The key value does not appear in the ResolvedKey repr."""
    monkeypatch.setenv("RA_PSEUDONYM_KEY", "s3cr3t" * 6)
    resolved = resolve_key()
    assert "s3cr3t" not in repr(resolved) and "s3cr3t" not in str(resolved)


def test_fingerprint_is_pinned_so_old_processed_folders_still_match():
    """The fingerprint of a fixed key never changes: processed folders record it, and
    a changed algorithm would make every one of them look re-keyed."""
    assert key_fingerprint(b"k" * 32) == "01daf50189c9ae0e"


def test_demo_key_is_new_each_sample_so_its_fingerprint_changes(clean_env, tmp_path):
    """Rewriting sample data writes a new random demo key (the demo re-keys its folder)."""
    raw = tmp_path / "raw"
    write_sample(raw, participants=30, seed=1)
    first = resolve_key(raw)
    write_sample(raw, participants=30, seed=1)
    second = resolve_key(raw)
    assert first.origin == second.origin == "demo"
    assert first.fingerprint != second.fingerprint
