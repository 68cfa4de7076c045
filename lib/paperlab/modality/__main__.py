"""``python -m paperlab.modality train``: every arm x seed -> data/modality/results.json."""
import sys

from paperlab.modality import main

sys.exit(main())
