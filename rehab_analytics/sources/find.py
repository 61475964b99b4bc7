"""Find the effective source descriptions, load them, build the registry and vocabularies.

Descriptions are looked up in override order (built-in, the raw folder's
``_sources``, ``RA_SOURCES_DIR``); this module never reads data files.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from rehab_analytics import contract
from rehab_analytics.config import BUILTIN_SOURCES_DIR, CONFIG_DIR
from rehab_analytics.errors import SourceDescriptionError
from rehab_analytics.sources.parse import _check_vocabulary, parse_description
from rehab_analytics.sources.spec import Organisation, Registry, SourceDescription

__all__ = [
    "source_dirs",
    "find_descriptions",
    "load_sources",
    "build_registry",
    "load_vocabularies",
    "source_vocabularies",
]


def source_dirs(raw_dir: Path | None = None) -> list[Path]:
    """Return the description folders in override order (built-in, raw, RA_SOURCES_DIR).

    Example:
        >>> source_dirs()[0].parent.name
        'sources'
    """
    dirs = [BUILTIN_SOURCES_DIR]
    if raw_dir is not None:
        dirs.append(Path(raw_dir) / "_sources")
    extra = os.environ.get("RA_SOURCES_DIR", "")
    dirs.extend(Path(p) for p in extra.split(os.pathsep) if p)
    return dirs


def find_descriptions(dirs: Iterable[Path]) -> list[Path]:
    """Return the effective description files: later folders override by file name.

    Files keep the order of their first appearance (built-in files first, in
    sorted order), so the registry order is stable.

    Raises:
        SourceDescriptionError: If a description is a link to a file outside its
            folder.

    Example:
        >>> find_descriptions([]) == []
        True
    """
    chosen: dict[str, Path] = {}
    for folder in dirs:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        root = folder.resolve()
        for path in sorted(folder.glob("*.toml")):
            if not path.resolve().is_relative_to(root):
                raise SourceDescriptionError(
                    f"is a link to a file outside the description folder {root}. "
                    "Expected the description itself; copy the file into the folder "
                    "instead of linking to it.",
                    file=str(path),
                )
            chosen[path.name] = path
    return list(chosen.values())


def load_sources(
    raw_dir: Path | None = None, dirs: Iterable[Path] | None = None
) -> list[SourceDescription]:
    """Find and parse every effective source description.

    Args:
        raw_dir: The raw folder (its ``_sources`` folder is searched; it must not
            be a link out of the raw folder).
        dirs: Folders to search instead of :func:`source_dirs`.

    Raises:
        SourceDescriptionError: If a description is invalid or a link out of its
            folder.

    Example:
        >>> load_sources(dirs=[]) == []
        True
    """
    folders = source_dirs(raw_dir) if dirs is None else list(dirs)
    if raw_dir is not None and dirs is None:
        own = Path(raw_dir) / "_sources"
        if own.is_dir() and not own.resolve().is_relative_to(Path(raw_dir).resolve()):
            raise SourceDescriptionError(
                "is a link to a folder outside the raw folder. Expected the delivery's "
                "own descriptions; copy them into the raw folder, or name the folder "
                "in RA_SOURCES_DIR.",
                file=str(own),
            )
    return [parse_description(p) for p in find_descriptions(folders)]


def build_registry(sources: Iterable[SourceDescription]) -> Registry:
    """Build the registry: the six default förbund first, then others in file order.

    Raises:
        SourceDescriptionError: If two descriptions register the same subproject.

    Example:
        >>> build_registry([]).subproject_codes
        ()
    """
    orgs: list[Organisation] = []
    seen: dict[str, str] = {}
    for source in sources:
        org = source.organisation
        if org is None:
            continue
        if org.subproject in seen:
            raise SourceDescriptionError(
                f"key 'organisation.subproject': '{org.subproject}' is already registered "
                f"by {seen[org.subproject]}. Give each subproject one description.",
                file=str(source.path),
            )
        seen[org.subproject] = source.path.name
        orgs.append(org)
    default_rank = {code: i for i, code in enumerate(contract.DEFAULT_FORBUND)}
    first_seen = {o.forbund: i for i, o in reversed(list(enumerate(orgs)))}

    def rank(item: tuple[int, Organisation]) -> tuple[int, int, int]:
        i, org = item
        fb = default_rank.get(org.forbund, len(default_rank) + first_seen[org.forbund])
        return fb, first_seen[org.forbund], i

    return Registry(tuple(o for _, o in sorted(enumerate(orgs), key=rank)))


def load_vocabularies(path: Path | None = None) -> dict[str, dict[str, str]]:
    """Load the built-in vocabularies with labels normalised.

    Example:
        >>> load_vocabularies()["sex"]["kvinna"]
        'woman'
    """
    path = Path(path) if path is not None else CONFIG_DIR / "vocabularies.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        name: _check_vocabulary(path, name, name, table) for name, table in raw.items()
    }


def source_vocabularies(
    base: Mapping[str, Mapping[str, str]], source: SourceDescription
) -> dict[str, dict[str, str]]:
    """Return ``base`` with the source's own labels merged over it.

    Example:
        >>> base = {"sex": {"kvinna": "woman"}}
        >>> src = SourceDescription("x", Path("x.toml"), None, (), {}, {"sex": {"q": "woman"}})
        >>> sorted(source_vocabularies(base, src)["sex"])
        ['kvinna', 'q']
    """
    merged = {name: dict(table) for name, table in base.items()}
    for name, table in source.vocabularies.items():
        merged.setdefault(name, {}).update(table)
    return merged
