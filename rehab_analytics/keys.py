"""The pseudonymisation key: where it comes from, key files, the demo key, fingerprints.

A pseudonym is only as safe as its key: the personnummer space is small, so anyone
holding the key and the pseudonyms can recompute who is who. The key therefore never
lives beside real data; the demo key (written by ``rehab-analytics sample``) is used
only when every file in the raw folder is one the sample generator wrote, checked by
content hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from rehab_analytics.config import settings
from rehab_analytics.errors import ConfigError, KeyMissingError
from rehab_analytics.identity import hmac_sha256

__all__ = [
    "KEY_ENV_VAR",
    "SAMPLE_MARKER",
    "DEMO_KEY_NAME",
    "KeyPermissionWarning",
    "ResolvedKey",
    "key_fingerprint",
    "sample_files_unchanged",
    "resolve_key",
    "write_key_file",
    "write_demo_key",
]

KEY_ENV_VAR = "RA_PSEUDONYM_KEY"
SAMPLE_MARKER = ".rehab-analytics-sample.json"
DEMO_KEY_NAME = ".rehab-analytics-demo.key"
_MIN_KEY_CHARS = 32
_MAX_KEY_BYTES = 4096
_FINGERPRINT_MESSAGE = "rehab-analytics key fingerprint v1"
# Files in a sample folder that are not data: the marker, the key, notes, and
# source descriptions (which hold no personal data; any file they point at must
# still be one the generator wrote).
_NOT_DATA = {SAMPLE_MARKER, DEMO_KEY_NAME, "README.md", ".gitkeep"}


class KeyPermissionWarning(UserWarning):
    """Warned when a key file can be read by other users than its owner."""


@dataclass(frozen=True)
class ResolvedKey:
    """A pseudonymisation key and where it came from.

    Attributes:
        key: The key bytes (never shown in reprs or messages).
        origin: ``"environment"``, ``"file"`` or ``"demo"``.
        path: The key file for ``"file"`` and ``"demo"``, else None.
    """

    key: bytes = field(repr=False)
    origin: str
    path: Path | None = None

    @property
    def fingerprint(self) -> str:
        """The key's fingerprint (see :func:`key_fingerprint`)."""
        return key_fingerprint(self.key)


def key_fingerprint(key: bytes) -> str:
    """Return a short fingerprint of a key: a keyed hash of a constant, never the key.

    Two runs with the same fingerprint used the same key, so their pseudonyms link.
    The fingerprint reveals nothing about the key (HMAC-SHA256 of a fixed message).

    Example:
        >>> key_fingerprint(b"k" * 32) == key_fingerprint(b"k" * 32)
        True
        >>> len(key_fingerprint(b"k" * 32)), key_fingerprint(b"k" * 32) == key_fingerprint(b"j" * 32)
        (16, False)
    """
    return hmac_sha256([_FINGERPRINT_MESSAGE], key)[0].hex()[:16]


def _write_secret(path: Path, overwrite: bool) -> Path:
    """Write 32 random bytes as hex to ``path``, created 0600 (parents 0700)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Replace via a new file and a rename, so a key never keeps looser permissions.
    target = path.with_name(f".{path.name}.{os.getpid()}.tmp") if overwrite else path
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(
            f"A key file already exists at {path}; it was not replaced because "
            "pseudonyms made with it would no longer match. To replace it anyway, "
            "run `rehab-analytics keygen --force` (old pseudonyms cannot be linked)."
        ) from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    if overwrite:
        os.replace(target, path)
    return path


def write_key_file(path: str | Path | None = None, force: bool = False) -> Path:
    """Create a new random key file with mode 0600.

    Args:
        path: Where to write; default ``settings().key_file`` (``RA_KEY_FILE``).
        force: Replace an existing key file.

    Raises:
        ConfigError: If the file exists and ``force`` is false.

    Example:
        >>> import tempfile
        >>> p = write_key_file(Path(tempfile.mkdtemp()) / "k" / "pseudonym.key")
        >>> oct(p.stat().st_mode & 0o777)
        '0o600'
    """
    path = settings().key_file if path is None else path
    return _write_secret(Path(path).expanduser(), overwrite=force)


def write_demo_key(raw_dir: Path) -> Path:
    """Write (or replace) the demo key of a sample-data raw folder.

    Example:
        >>> import tempfile
        >>> write_demo_key(Path(tempfile.mkdtemp())).name
        '.rehab-analytics-demo.key'
    """
    return _write_secret(Path(raw_dir) / DEMO_KEY_NAME, overwrite=True)


def _read_key_file(path: Path) -> bytes:
    """Return a key file's key; named errors for unreadable, binary or short keys."""
    try:
        info = path.stat()
        if info.st_size > _MAX_KEY_BYTES:
            raise ConfigError(
                f"The key file {path} is {info.st_size} bytes; a key file holds one "
                "line of text (about 64 characters). Point RA_KEY_FILE at the key "
                "written by `rehab-analytics keygen`."
            )
        data = path.read_bytes()
    except PermissionError:
        raise ConfigError(
            f"The key file {path} cannot be read by this user. Check its owner and "
            f"permissions (it should be yours, mode 600: chmod 600 {path})."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"The key file {path} cannot be read ({exc.strerror or exc}). Point "
            "RA_KEY_FILE at a readable key file, or create one with "
            "`rehab-analytics keygen`."
        ) from None
    mode = info.st_mode & 0o777
    if os.name == "posix" and mode & 0o077:
        warnings.warn(
            f"The key file {path} has permissions {mode:o}, so other users may read "
            f"it. Restrict it with: chmod 600 {path}",
            KeyPermissionWarning,
            stacklevel=3,
        )
    try:
        key = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        key = None
    if key is None or not key.isprintable():
        raise ConfigError(
            f"The key file {path} does not hold a text key (found binary data). A key "
            "file holds one line of text; create one with `rehab-analytics keygen`."
        )
    if len(key) < _MIN_KEY_CHARS:
        raise ConfigError(
            f"The key file {path} holds {len(key)} characters; a key needs at least "
            f"{_MIN_KEY_CHARS}. Create a new one with `rehab-analytics keygen --force`."
        )
    return key.encode("utf-8")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sample_files_unchanged(raw_dir: str | Path) -> bool:
    """Whether every data file in ``raw_dir`` is one the sample generator wrote.

    True only when the folder has the sample marker, the marker lists a SHA-256 for
    each file, every file in the folder (but the marker, the demo key, notes and
    ``_sources/*.toml`` descriptions) is listed, and each listed file still has its
    hash. A real file dropped into a sample folder makes it False.

    Example:
        >>> import tempfile
        >>> sample_files_unchanged(tempfile.mkdtemp())
        False
    """
    raw = Path(raw_dir)
    try:
        marker = json.loads((raw / SAMPLE_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    hashes = marker.get("sha256") if isinstance(marker, dict) else None
    if not isinstance(hashes, dict) or not hashes:
        return False
    for path in raw.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            continue
        rel = path.relative_to(raw).as_posix()
        if rel in _NOT_DATA or (rel.startswith("_sources/") and rel.endswith(".toml")):
            continue
        if path.is_symlink() or rel not in hashes or _sha256_file(path) != hashes[rel]:
            return False
    return True


def resolve_key(raw_dir: Path | None = None) -> ResolvedKey:
    """Find the pseudonymisation key: environment, then key file, then demo key.

    Args:
        raw_dir: The raw folder; its demo key is used only if every data file in
            it is one the sample generator wrote (:func:`sample_files_unchanged`).

    Raises:
        ConfigError: If ``RA_PSEUDONYM_KEY`` or the key file holds an unusable key.
        KeyMissingError: If no key is found.

    Example:
        >>> ResolvedKey(b"not shown" * 4, "environment")  # what it returns
        ResolvedKey(origin='environment', path=None)
    """
    env_key = os.environ.get(KEY_ENV_VAR, "").strip()
    if env_key:
        if len(env_key) < _MIN_KEY_CHARS:
            raise ConfigError(
                f"{KEY_ENV_VAR} is set but holds {len(env_key)} characters; a key "
                f"needs at least {_MIN_KEY_CHARS}. Set a longer key or unset it to "
                "use the key file."
            )
        return ResolvedKey(env_key.encode("utf-8"), "environment")
    key_file = settings().key_file.expanduser()
    if key_file.exists():
        return ResolvedKey(_read_key_file(key_file), "file", key_file)
    looked = f"{KEY_ENV_VAR} (not set), the key file {key_file} (not found)"
    if raw_dir is not None:
        demo = Path(raw_dir) / DEMO_KEY_NAME
        if demo.is_file() and sample_files_unchanged(raw_dir):
            return ResolvedKey(_read_key_file(demo), "demo", demo)
        looked += (
            f" and {raw_dir} (a demo key is used only when every file there is "
            "sample data written by `rehab-analytics sample`, unchanged)"
        )
    raise KeyMissingError(
        f"No pseudonymisation key was found. Looked in {looked}. Create a key file "
        f"with `rehab-analytics keygen` (or set RA_KEY_FILE to an existing one), or "
        f"set {KEY_ENV_VAR} to a secret of at least {_MIN_KEY_CHARS} characters. "
        "Real data is never pseudonymised without a key."
    )
