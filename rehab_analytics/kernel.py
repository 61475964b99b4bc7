"""The Jupyter kernel the notebooks and the batch run on."""

from __future__ import annotations

import sys

__all__ = ["KERNEL_NAME", "install_kernel"]

KERNEL_NAME = "rehab-analytics"


def install_kernel(quiet: bool = False) -> str:
    """Install the package's kernel spec into the current environment.

    The spec points at this interpreter, so notebooks run with exactly the
    installed package and pinned dependencies.

    Returns:
        The folder the kernel spec was written to.
    """
    from ipykernel.kernelspec import install

    path = install(
        kernel_name=KERNEL_NAME,
        display_name="Python (rehab-analytics)",
        prefix=sys.prefix,
    )
    if not quiet:
        print(f"Installed kernel '{KERNEL_NAME}' in {path}")
    return path
