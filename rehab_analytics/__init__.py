"""rehab-analytics: clean, pseudonymise and compare the six subprojects' outcome data.

The raw side (``sources`` → ``ingest`` → ``clean``) writes the processed tables;
:func:`load` reads them back. The analysis side works on those tables:
``measures`` computes, ``disclosure`` suppresses, ``stats`` compares, ``plots``
draws, ``narrative`` words, ``figures`` ties them into report recipes, and
``report`` publishes (HTML, ``tables.xlsx``, the deck).

Example:
    >>> import rehab_analytics as ra
    >>> ra.__all__
    ['__version__', 'Tables', 'load']
"""

from __future__ import annotations

from rehab_analytics._version import __version__
from rehab_analytics.processed import Tables, load

__all__ = ["__version__", "Tables", "load"]
