"""Make the running Python environment hold exactly what one lock lists.

Usage: ``python requirements/sync.py requirements/dev.lock`` (the Makefile runs it
with the project's ``.venv/bin/python``).

1. ``pip install --require-hashes -r LOCK``: installs, upgrades or downgrades to the
   pinned versions, every file checked against the lock's hashes.
2. Uninstalls every distribution the lock does not list, except pip itself and this
   project (the Makefile installs it in editable mode afterwards).
3. Checks that every installed version is the pinned one; exits 1 if not.

Only the standard library: it runs before anything is installed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

# Never removed: the installer, and the project itself (not in its own lock).
KEEP = {"pip", "rehab-analytics"}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def canonical(name: str) -> str:
    """Return the PEP 503 form of a distribution name.

    Example:
        >>> canonical("Jupyter_Server.Terminals")
        'jupyter-server-terminals'
    """
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: Path) -> dict[str, str]:
    """Return canonical name → pinned version for each ``name==version`` line."""
    found: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def installed() -> dict[str, str]:
    """Return canonical name → version of every distribution installed.

    Read in a new process: this one's metadata view predates what pip just did.
    """
    code = (
        "import importlib.metadata as m\n"
        "for d in m.distributions():\n"
        "    if d.metadata['Name']: print(d.metadata['Name'], d.version)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return {canonical(n): v for n, v in (line.split() for line in out.splitlines())}


def _pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    subprocess.run(cmd, check=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    lock = Path(argv[0])
    wanted = pins(lock)
    if not wanted:
        print(
            f"error: {lock} pins nothing (expected name==version lines)",
            file=sys.stderr,
        )
        return 2
    _pip("install", "--quiet", "--require-hashes", "-r", str(lock))
    extra = sorted(set(installed()) - set(wanted) - KEEP)
    if extra:
        print(f"sync: removing what {lock} does not list: {', '.join(extra)}")
        _pip("uninstall", "--quiet", "--yes", *extra)
    have = installed()
    wrong = [
        f"{name} {have.get(name, 'missing')} (lock: {version})"
        for name, version in sorted(wanted.items())
        if have.get(name) != version
    ]
    if wrong:
        print(f"error: not as {lock} pins: {'; '.join(wrong)}", file=sys.stderr)
        return 1
    print(f"sync: {len(wanted)} distributions exactly as {lock} pins them")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
