"""``python -m rehab_analytics.bench``: run the benchmark."""

from rehab_analytics.bench.run import main

raise SystemExit(main())
