"""The demo (``make demo``): sample data → clean → report batch, then what to open."""

from __future__ import annotations

import sys
from pathlib import Path

from rehab_analytics.keys import SAMPLE_MARKER

__all__ = ["raw_state", "run_demo"]

# Files that may sit in an otherwise empty raw folder (README.md is the data log).
_HARMLESS = {"README.md", ".gitkeep"}


def raw_state(raw_dir: str | Path) -> str:
    """Tell what a raw folder holds: ``"empty"``, ``"sample"`` or ``"real"``.

    A folder with the sample marker is a sample; one with nothing but a README,
    ``.gitkeep`` or hidden files is empty; anything else is a real delivery.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> raw_state(folder), raw_state(folder / "missing")
        ('empty', 'empty')
        >>> _ = (folder / "nordost.xlsx").write_bytes(b"")
        >>> raw_state(folder)
        'real'
    """
    raw = Path(raw_dir)
    if (raw / SAMPLE_MARKER).is_file():
        return "sample"
    if not raw.is_dir():
        return "empty"
    other = [
        p
        for p in raw.iterdir()
        if p.name not in _HARMLESS and not p.name.startswith(".")
    ]
    return "real" if other else "empty"


def _say(text: str = "") -> None:
    print(text, flush=True)


def run_demo(
    raw_dir: str | Path,
    out_dir: str | Path,
    jobs: int | None = None,
    *,
    participants: int = 570,
    seed: int = 2015,
) -> int:
    """Write sample data (unless real data is there), clean it, run the reports.

    A real delivery in ``raw_dir`` is never touched: it is cleaned as it is. Prints
    each stage's summary and at the end the files to open. New sample data comes
    with a new demo key, so a processed folder the demo made (its report's key
    came from a demo key) is re-keyed without complaint; one made with a real key
    is never re-keyed here (the clean stops with
    :class:`~rehab_analytics.errors.KeyChangedError`).

    Args:
        raw_dir: Raw folder (sample data is (re)written here if empty or a sample).
        out_dir: Processed folder (``clean`` output; reports go to ``reports/``).
        jobs: Notebooks run at once (default: number of cores).
        participants: Episodes in the sample.
        seed: Random seed of the sample.

    Returns:
        0 when every stage succeeded, else 1.

    Example:
        >>> run_demo("data/raw", "data/processed")  # doctest: +SKIP
        0
    """
    from rehab_analytics.batch.run import NOTEBOOKS_DIR, run_batch
    from rehab_analytics.clean.guard import previous_key
    from rehab_analytics.clean.run import run_clean
    from rehab_analytics.processed import OUTPUT_FILES
    from rehab_analytics.sample.deliveries import write_sample

    raw, out = Path(raw_dir), Path(out_dir)
    state = raw_state(raw)
    _say(f"== 1/3 Raw data: {raw}")
    if state == "real":
        _say(
            f"{raw} holds a real delivery (no sample marker): leaving it as it is. "
            "The pseudonymisation key must be configured (rehab-analytics keygen)."
        )
    else:
        _say(f"Writing sample data ({participants} episodes, seed {seed}).")
        _say(write_sample(raw, participants=participants, seed=seed).summary())

    _say(f"\n== 2/3 Cleaning into {out}")
    made_by_demo = (previous_key(out) or {}).get("origin") == "demo"
    cleaned = run_clean(raw_dir=raw, out_dir=out, new_key=made_by_demo)
    _say(cleaned.summary())
    if not cleaned.ok:
        _say("Cleaning found problems (see above); reports were not run.")
        return 1

    _say("\n== 3/3 Reports")
    if not any(NOTEBOOKS_DIR.glob("*.ipynb")):
        _say(f"No report notebooks in {NOTEBOOKS_DIR}; skipping the reports.")
        return 0
    result = run_batch(processed_dir=out, jobs=jobs)
    _say(result.summary())

    _say("\nOpen:")
    for name, path in result.outputs.items():
        if name.endswith((".html", ".xlsx", ".pptx")):
            _say(f"  {path}")
    _say(f"  {out / OUTPUT_FILES['report']}  (what cleaning did, per source)")
    _say(f"  {out / OUTPUT_FILES['rejects_csv']}  (rejected rows and warnings)")
    if not result.ok:
        print("Some reports failed: see the table above.", file=sys.stderr)
    return 0 if result.ok else 1
