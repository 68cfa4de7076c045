"""paperlab: eleven recent machine-learning papers, re-implemented small, measured honestly.

The shared machinery lives in :mod:`paperlab.core`; offline data in :mod:`paperlab.worlds`;
one module per paper next to this file.
"""

from paperlab.core.profiles import Profile, profile

__all__ = ["Profile", "profile", "__version__"]
__version__ = "0.1.0"
