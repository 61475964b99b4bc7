"""Command-line interface: parses arguments and calls one library function per command.

User mistakes (any :class:`~rehab_analytics.errors.RehabAnalyticsError`) are printed
as a message with a non-zero exit code, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from rehab_analytics._version import __version__
from rehab_analytics.errors import RehabAnalyticsError

__all__ = ["main", "build_parser"]


def _cmd_sample(args: argparse.Namespace) -> int:
    from rehab_analytics.sample.deliveries import write_sample

    result = write_sample(
        Path(args.out), participants=args.participants, seed=args.seed
    )
    print(result.summary())
    return 0


def _cmd_clean(args: argparse.Namespace) -> int:
    from rehab_analytics.clean.run import run_clean

    with warnings.catch_warnings(record=True) as caught:
        try:
            result = run_clean(
                raw_dir=args.raw, out_dir=args.out, jobs=args.jobs, new_key=args.new_key
            )
        finally:  # one line per warning, also when the clean stops with an error
            for warning in caught:
                print(f"warning: {warning.message}", file=sys.stderr)
    print(result.summary())
    return 0 if result.ok else 1


def _cmd_keygen(args: argparse.Namespace) -> int:
    from rehab_analytics.keys import write_key_file

    path = write_key_file(args.path, force=args.force)
    print(
        f"Wrote a new pseudonymisation key to {path} (mode 0600). Keep it safe and out of git."
    )
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from rehab_analytics.demo import run_demo

    return run_demo(raw_dir=Path(args.raw), out_dir=Path(args.out), jobs=args.jobs)


def _cmd_reports(args: argparse.Namespace) -> int:
    from rehab_analytics.batch.parameters import default_period
    from rehab_analytics.batch.run import command_line_parameters, run_batch
    from rehab_analytics.config import settings

    start, end = args.period_start, args.period_end
    if start is None or end is None:
        span = default_period(settings(processed_dir=args.processed).processed_dir)
        if span is not None:
            start, end = start or span[0], end or span[1]
    if start and end:
        chosen = args.period_start and args.period_end
        how = "" if chosen else " (the span of the data in whole tertials; choose "
        print(
            f"Report period: {start} – {end}{how}"
            + ("" if chosen else "another with --period-start/--period-end)")
        )
    result = run_batch(
        processed_dir=args.processed,
        period_start=start,
        period_end=end,
        lang=args.lang,
        subprojects=args.subprojects,
        jobs=args.jobs,
        force=args.force,
        parameters=command_line_parameters(args.parameters),
    )
    print(result.summary())
    return 0 if result.ok else 1


def _cmd_gallery(args: argparse.Namespace) -> int:
    from rehab_analytics.report.gallery import write_gallery

    paths = write_gallery(out_dir=Path(args.out), processed_dir=args.processed)
    print(f"Wrote {len(paths)} charts to {args.out}")
    return 0


def _cmd_template(args: argparse.Namespace) -> int:
    from rehab_analytics.intake.inspect import write_template

    path = write_template(Path(args.out), lang=args.lang, forbund=args.forbund)
    print(f"Wrote the reporting template to {path}")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from rehab_analytics.intake.inspect import inspect_file

    report = inspect_file(
        Path(args.file), sheet=args.sheet, write_description=args.write_description
    )
    print(report.summary())
    return 0


def _cmd_install_kernel(args: argparse.Namespace) -> int:
    from rehab_analytics.kernel import install_kernel

    install_kernel(quiet=args.quiet)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="rehab-analytics",
        description="Clean, pseudonymise and report on Inkluderande rehabilitering data.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("sample", help="write synthetic raw files for the six förbund")
    p.add_argument(
        "--out", default="data/raw", help="target folder (default: data/raw)"
    )
    p.add_argument(
        "--participants", type=int, default=570, help="episodes (default: 570)"
    )
    p.add_argument("--seed", type=int, default=2015, help="random seed (default: 2015)")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser(
        "clean", help="read, clean, pseudonymise and validate the raw files"
    )
    p.add_argument(
        "--raw", default=None, help="raw folder (default: $RA_RAW_DIR or data/raw)"
    )
    p.add_argument(
        "--out",
        default=None,
        help="output folder (default: $RA_PROCESSED_DIR or data/processed)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes (default: cores; 1 = none)",
    )
    p.add_argument(
        "--new-key",
        action="store_true",
        help="re-key deliberately: clean into a folder made with another key "
        "(its old pseudonyms will not link to the new ones)",
    )
    p.set_defaults(func=_cmd_clean)

    p = sub.add_parser(
        "keygen", help="write a new pseudonymisation key file (mode 0600)"
    )
    p.add_argument("--path", default=None, help="key file (default: $RA_KEY_FILE)")
    p.add_argument("--force", action="store_true", help="replace an existing key file")
    p.set_defaults(func=_cmd_keygen)

    p = sub.add_parser(
        "demo", help="sample data -> clean -> reports, then print what to open"
    )
    p.add_argument("--raw", default="data/raw")
    p.add_argument("--out", default="data/processed")
    p.add_argument(
        "--jobs", type=int, default=None, help="parallel notebooks (default: cores)"
    )
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "reports",
        help="run the report notebooks with papermill",
        description="Run the report notebooks. The default period is the span of "
        "the data in whole tertials (Jan–Apr, May–Aug, Sep–Dec): from the tertial "
        "of the first start date to that of the last start or end date; it is "
        "printed before the notebooks run.",
    )
    p.add_argument(
        "--processed", default=None, help="processed folder (default: data/processed)"
    )
    p.add_argument(
        "--period-start",
        default=None,
        help="first day, YYYY-MM-DD (default: first day of the data's first tertial)",
    )
    p.add_argument(
        "--period-end",
        default=None,
        help="last day, YYYY-MM-DD (default: last day of the data's last tertial)",
    )
    p.add_argument("--lang", default="sv", choices=["sv", "en"], help="report language")
    p.add_argument("--subprojects", nargs="+", default=None, help="subproject codes")
    p.add_argument(
        "--jobs", type=int, default=None, help="parallel notebooks (default: cores)"
    )
    p.add_argument("--force", action="store_true", help="run even if nothing changed")
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        dest="parameters",
        metavar=("NAME", "VALUE"),
        help="a parameter the notebooks declare, as in papermill; repeatable "
        "(e.g. -p casemix False)",
    )
    p.set_defaults(func=_cmd_reports)

    p = sub.add_parser("gallery", help="draw every chart in both languages")
    p.add_argument("--out", default="data/processed/gallery")
    p.add_argument("--processed", default=None)
    p.set_defaults(func=_cmd_gallery)

    p = sub.add_parser("template", help="write the Excel reporting template")
    p.add_argument("--out", default="rapportmall.xlsx")
    p.add_argument(
        "--lang",
        default=None,
        choices=["sv", "en"],
        help="template language (default: the förbund's own language, else sv)",
    )
    p.add_argument("--forbund", default=None, help="pre-fill the förbund code")
    p.set_defaults(func=_cmd_template)

    p = sub.add_parser(
        "inspect", help="propose a source description for an unfamiliar file"
    )
    p.add_argument("file")
    p.add_argument("--sheet", default=None)
    p.add_argument("--write-description", default=None, metavar="PATH")
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("install-kernel", help="install the notebooks' Jupyter kernel")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_install_kernel)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code.

    Example:
        >>> main(["--version"])  # doctest: +SKIP
        rehab-analytics 0.1.0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except RehabAnalyticsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(
            "interrupted: outputs written so far are complete; re-run to finish.",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
