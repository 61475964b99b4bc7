"""What a clean did: the cleaning report's entry per source and the run's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rehab_analytics._version import __version__
from rehab_analytics.sources import Registry, SourceDescription

__all__ = ["CleanResult"]


@dataclass
class CleanResult:
    """What :func:`~rehab_analytics.clean.run.run_clean` did.

    Attributes:
        ok: True when every source was cleaned and every table validated.
        report: The cleaning report (also written as ``cleaning_report.json``).
        out_dir: Where the outputs were written.
        paths: Output name → file written.
    """

    ok: bool
    report: dict
    out_dir: Path
    paths: dict[str, Path] = field(default_factory=dict)

    def summary(self) -> str:
        """Return one line per source and where the outputs are.

        Example:
            >>> r = CleanResult(True, {"sources": {}, "totals": {}}, Path("out"))
            >>> r.summary().splitlines()[0]
            'Cleaned 0 sources: all OK.'
        """
        sources = self.report.get("sources", {})
        failed = [n for n, s in sources.items() if s.get("error")]
        missing = [n for n, s in sources.items() if s.get("not_delivered")]
        head = f"Cleaned {len(sources) - len(missing)} sources: " + (
            "all OK."
            if not failed
            else f"{len(failed)} could not be read ({', '.join(failed)})."
        )
        if missing:
            head += f" Not delivered: {', '.join(missing)}."
            if len(missing) == len(sources):
                head += " No source delivered any file: check the raw folder."
        lines = [head]
        key = self.report.get("key") or {}
        if key.get("rekeyed"):
            lines.append(
                f"Re-keyed: pseudonyms were made with a new key (fingerprint "
                f"{key.get('fingerprint')}, was {key.get('previous_fingerprint')}); "
                "they cannot be linked to earlier runs."
            )
        width = max([len(n) for n in sources] + [6])
        for name, s in sources.items():
            if s.get("error"):
                lines.append(f"  {name:<{width}}  ERROR: {s['error']}")
                continue
            if s.get("not_delivered"):
                lines.append(f"  {name:<{width}}  not delivered: {s['not_delivered']}")
                continue
            warnings = sum(s.get("warnings", {}).values())
            lines.append(
                f"  {name:<{width}}  {s['n_files']:>3} files  {s['rows_read']:>7} rows read"
                f"  {s['rows_clean']:>7} clean  {s['rows_rejected']:>5} rejected"
                f"  {s['rows_skipped']:>4} skipped  {warnings:>5} warnings"
            )
        failures = self.report.get("validation", [])
        if failures:
            lines.append(f"Validation failed ({len(failures)} problems), for example:")
            lines += [f"  {f['message']}" for f in failures[:5]]
        totals = self.report.get("totals", {})
        if totals:
            lines.append(
                f"Total: {totals['participants']} episodes, {totals['subprojects']} subproject "
                f"years, {totals['anonymous_counts']} anonymous counts, "
                f"{totals['rejects']} problems listed."
            )
        if self.paths:
            lines.append(f"Outputs in {self.out_dir}:")
            lines += [f"  {p.name}" for p in self.paths.values()]
            lines.append(
                f"Check rejected rows and warnings in {self.paths.get('rejects_csv', '')}."
            )
        return "\n".join(lines)


def _source_report(
    source: SourceDescription, raw_dir: Path, info: dict, problems: pd.DataFrame
) -> dict:
    files = info["files"]
    warnings = problems[problems["status"] == "warning"]
    unknown = warnings[warnings["reason"] == "unknown_label"]
    unknown_counts = (
        unknown.groupby(["column", "value"], sort=True).size().reset_index(name="count")
        if len(unknown)
        else pd.DataFrame(columns=["column", "value", "count"])
    )
    try:
        description = source.path.relative_to(
            Path(__file__).resolve().parent
        ).as_posix()
        description = f"(built-in) {description}"
    except ValueError:
        description = str(source.path)
    return {
        "description": description,
        "n_files": len({f["file"] for f in files}),
        "rows_read": sum(f["rows_read"] for f in files),
        "rows_clean": sum(f["rows_clean"] for f in files),
        "rows_rejected": sum(f["rows_rejected"] for f in files),
        "rows_skipped": sum(f["rows_skipped"] for f in files),
        "blank_rows": sum(f["blank_rows"] for f in files),
        "rejected_by_reason": {
            str(k): int(v)
            for k, v in problems[problems["status"] == "rejected"]["reason"]
            .value_counts()
            .sort_index()
            .items()
        },
        "warnings": {
            str(k): int(v)
            for k, v in warnings["reason"].value_counts().sort_index().items()
        },
        "unknown_labels": [
            {"column": str(r.column), "value": str(r.value), "count": int(r.count)}
            for r in unknown_counts.itertuples(index=False)
        ],
        "notes": info["notes"],
        "files": files,
        "error": None,
    }


def _clean_report(
    raw: Path,
    key: dict,
    registry: Registry,
    report_sources: dict[str, dict],
    frames: dict[str, pd.DataFrame],
) -> dict:
    """Return the cleaning report before validation (``ok`` is set after it)."""
    return {
        "generator": f"rehab-analytics {__version__}",
        "raw_dir": str(raw),
        "key": key,
        "ok": False,
        "organisations": [
            {"forbund": o.forbund, "subproject": o.subproject, "source": o.source}
            for o in registry.organisations
        ],
        "sources": report_sources,
        "totals": {
            "participants": len(frames["participants"]),
            "subprojects": len(frames["subprojects"]),
            "anonymous_counts": len(frames["anonymous_counts"]),
            "rejects": len(frames["rejects"]),
            "rows_rejected": sum(
                s.get("rows_rejected", 0) for s in report_sources.values()
            ),
            "rows_skipped": sum(
                s.get("rows_skipped", 0) for s in report_sources.values()
            ),
        },
    }
