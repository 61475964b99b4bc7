"""``python -m rehab_analytics``: the command-line interface."""

from rehab_analytics.cli import main

raise SystemExit(main())
