"""Synthetic raw deliveries from the six förbund, with known faults and the truth.

:func:`generate` builds everything in memory (deterministic per seed);
:func:`write_sample` writes each förbund's files in its own layout (the quirks are
listed in ``data/raw/README.md`` and in each source description), the tables a
correct cleaning must return under ``_truth/``, a marker file and the demo key.
The parts live in ``sample_people`` (episodes and outcomes), ``sample_layouts``
(each förbund's layout), ``sample_subprojects``, ``sample_truth`` and
``sample_files`` (xlsx/ods/CSV writers).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rehab_analytics import keys
from rehab_analytics.errors import ParameterError, SampleTargetError
from rehab_analytics.sample.files import _write_file
from rehab_analytics.sample.layouts import (  # noqa: F401  (re-exported)
    _LAYOUTS,
    _UNKNOWN_LABELS,
    RawTable,
    _columns,
    _description,
    _labels,
    _participant_tables,
)
from rehab_analytics.sample.people import (  # noqa: F401  (re-exported)
    _DUP_RATE,
    PERIOD_END,
    PERIOD_START,
    _counts,
    _episodes,
)
from rehab_analytics.sample.subprojects import _centrum_extras, _projekt
from rehab_analytics.sample.truth import (
    _participant_rejects,
    _reject_frame,
    _truth_participants,
)

__all__ = [
    "GENERATOR_VERSION",
    "MARKER",
    "RawTable",
    "SampleData",
    "SampleResult",
    "generate",
    "write_sample",
]

GENERATOR_VERSION = "1"
MARKER = keys.SAMPLE_MARKER
# Files that may sit in an otherwise empty raw folder (README.md is the data log).
_HARMLESS = {"README.md", ".gitkeep", keys.DEMO_KEY_NAME}

# Injected faults: share of episodes (at least one each). Duplicates are extra rows.
_FAULT_RATES = {
    "invalid_id": 0.015,
    "missing_id": 0.005,
    "other_id": 0.003,
    "end_before_start": 0.01,
    "invalid_date": 0.005,
    "unknown_label": 0.02,
}


@dataclass
class SampleData:
    """The generated sample: truth tables (``_truth/``) and the raw tables."""

    participants: pd.DataFrame
    subprojects: pd.DataFrame
    anonymous_counts: pd.DataFrame
    rejects: pd.DataFrame
    tables: list[RawTable]
    seed: int
    n: int

    def raw(self, source: str) -> list[RawTable]:
        """Return the raw tables (sheets/files) of one source, in file order."""
        return [t for t in self.tables if t.source == source]


@dataclass
class SampleResult:
    """What :func:`write_sample` wrote."""

    out: Path
    files: list[Path]
    truth_dir: Path
    rows: dict[str, int]
    n: int
    seed: int

    def summary(self) -> str:
        """Return a short human-readable list of the files and row counts."""
        lines = [
            f"Wrote sample data ({self.n} episodes, seed {self.seed}) to {self.out}:"
        ]
        lines += [f"  {name:<55} {count:>7} rows" for name, count in self.rows.items()]
        lines.append(f"Expected results for tests: {self.truth_dir}")
        lines.append(f"Next: rehab-analytics clean --raw {self.out}")
        return "\n".join(lines)


def _file_key(start: pd.Series, split: str | None) -> pd.Series:
    if split == "year":
        return start.dt.year.astype(str)
    if split == "tertial":
        return (
            start.dt.year.astype(str)
            + " T"
            + ((start.dt.month - 1) // 4 + 1).astype(str)
        )
    return pd.Series("", index=start.index)


def _choose(rng, candidates: np.ndarray, k: int) -> np.ndarray:
    return rng.choice(candidates, min(k, len(candidates)), replace=False)


def _assign_faults(ep: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Mark episodes with one injected fault each and choose rows delivered twice."""
    n = len(ep)
    fault = np.full(n, "", dtype=object)
    free = (ep["exit_reason"] != "misregistration").to_numpy()
    exited = ~ep["active"].to_numpy()
    for name, rate in _FAULT_RATES.items():
        ok = free & (fault == "") & (exited if name == "end_before_start" else True)
        fault[_choose(rng, np.flatnonzero(ok), _counts(n, rate, ok.sum()))] = name
    # The field that gets an unknown label; after-fields only for exited episodes.
    listed = [c for c in _LAYOUTS if isinstance(_columns(c)["income_before"], str)]
    fields = np.where(ep["forbund"].isin(listed), "income_before", "education")
    options = np.array(
        ["education", "occupation_before", "occupation_after", "exit_reason"]
    )
    pick = options[rng.integers(0, 4, n)]
    pick = np.where(~exited & (pick == "occupation_after"), "occupation_before", pick)
    pick = np.where(~exited & (pick == "exit_reason"), fields, pick)
    fields = np.where(rng.random(n) < 0.25, fields, pick)
    # Duplicates: within one file anywhere; across files where a next file exists.
    ep = ep.assign(
        fault=fault, fault_field=np.where(fault == "unknown_label", fields, "")
    )
    ep["file_key"] = ""
    for code, layout in _LAYOUTS.items():
        hit = ep["forbund"] == code
        ep.loc[hit, "file_key"] = _file_key(ep.loc[hit, "start"], layout.get("split"))
    dup = np.full(n, "", dtype=object)
    clean = free & (fault == "")
    dup[_choose(rng, np.flatnonzero(clean), _counts(n, _DUP_RATE / 2, clean.sum()))] = (
        "within"
    )
    for code, layout in _LAYOUTS.items():
        mine = (ep["forbund"] == code).to_numpy()
        if not layout.get("split") or not mine.any():
            continue
        last = ep.loc[mine, "file_key"].max()
        ok = np.flatnonzero(
            mine & clean & (dup == "") & (ep["file_key"] != last).to_numpy()
        )
        dup[_choose(rng, ok, _counts(mine.sum(), _DUP_RATE / 2, len(ok)))] = "across"
    return ep.assign(dup=dup)


def generate(participants: int = 570, seed: int = 2015) -> SampleData:
    """Generate the sample in memory: raw tables per source and the truth tables.

    Args:
        participants: Number of episodes (≥ 30); duplicates and totals rows come extra.
        seed: Random seed; the same seed gives the same data.

    Returns:
        The truth tables and the raw tables.

    Example:
        >>> data = generate(60, seed=1)
        >>> sorted({t.source for t in data.tables})[:3]
        ['alv_och_kust', 'centrum', 'hisingen']
        >>> int(data.participants["subproject"].notna().sum()) < 60
        True
    """
    if participants < 30:
        raise ParameterError(
            f"participants is {participants}; the sample needs at least 30 episodes so "
            "that every förbund gets rows. Use --participants 30 or more."
        )
    rng = np.random.default_rng(seed)
    step_max = {c: _description(c)["scales"]["step"]["max"] for c in _LAYOUTS}
    ep = _assign_faults(_episodes(participants, rng, step_max), rng)
    tables, placed = [], []
    for code in _LAYOUTS:
        t, p = _participant_tables(ep, code, rng)
        if code == "centrum":
            t = _centrum_extras(t[0].file) + t
        tables += t
        placed.append(p)
    placed = pd.concat(placed, ignore_index=True)
    project, subprojects, anonymous, skipped = _projekt(rng)
    rejects = _reject_frame(_participant_rejects(ep, placed, tables) + skipped)
    return SampleData(
        participants=_truth_participants(ep, placed),
        subprojects=subprojects,
        anonymous_counts=anonymous,
        rejects=rejects,
        tables=tables + project,
        seed=seed,
        n=participants,
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _prepare_target(out: Path) -> None:
    """Refuse a folder that holds files `sample` did not write; clear an old sample."""
    if not out.exists():
        return
    if not out.is_dir():
        raise SampleTargetError(
            f"{out} is a file, not a folder. Give --out a folder for the sample data."
        )
    marker = out / MARKER
    if marker.is_file():
        root = out.resolve()
        for name in json.loads(marker.read_text("utf-8")).get("files", []):
            target = (out / name).resolve()
            if root in target.parents and target.is_file():
                target.unlink()
                for folder in target.parents:
                    if folder == root or any(folder.iterdir()):
                        break
                    folder.rmdir()
        marker.unlink()
        return
    foreign = sorted(p.name for p in out.iterdir() if p.name not in _HARMLESS)
    if foreign:
        raise SampleTargetError(
            f"The folder {out} holds files that `rehab-analytics sample` did not write "
            f"(for example '{foreign[0]}'); it may be a real delivery, so nothing was "
            "written or removed. Give --out an empty or new folder, or move those files "
            "elsewhere first."
        )


def write_sample(out: Path, participants: int = 570, seed: int = 2015) -> SampleResult:
    """Write the sample raw files, the truth tables, a marker and the demo key.

    Args:
        out: Target folder (created if missing). A folder holding files that
            ``sample`` did not write is refused; an earlier sample is replaced.
        participants: Number of episodes (≥ 30).
        seed: Random seed.

    Returns:
        The files written, row counts and the truth folder.

    Raises:
        SampleTargetError: If ``out`` holds files not written by ``sample``.

    Example:
        >>> import tempfile
        >>> result = write_sample(Path(tempfile.mkdtemp()) / "raw", participants=60)
        >>> result.truth_dir.name
        '_truth'
    """
    out = Path(out)
    _prepare_target(out)
    data = generate(participants, seed)
    out.mkdir(parents=True, exist_ok=True)
    by_file: dict[str, list[RawTable]] = {}
    for t in data.tables:
        by_file.setdefault(t.file, []).append(t)
    rows = {}
    for name, sheets in by_file.items():
        _write_file(out / name, sheets)
        rows[name] = int(sum((t.role == "data").sum() for t in sheets if t.table))
    truth = out / "_truth"
    truth.mkdir(exist_ok=True)
    frames = {
        "participants": data.participants,
        "subprojects": data.subprojects,
        "anonymous_counts": data.anonymous_counts,
        "rejects": data.rejects,
    }
    for name, frame in frames.items():
        frame.to_parquet(truth / f"{name}.parquet", index=False)
    files = [*by_file, *(f"_truth/{n}.parquet" for n in frames)]
    # The hashes let the demo key be used for exactly these files (see keys).
    marker = {
        "generator": "rehab-analytics sample",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "participants": participants,
        "files": files,
        "sha256": {f: _sha256(out / f) for f in files},
    }
    (out / MARKER).write_text(json.dumps(marker, indent=2, ensure_ascii=False), "utf-8")
    keys.write_demo_key(out)
    return SampleResult(out, [out / f for f in files], truth, rows, participants, seed)
