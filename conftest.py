"""Shared test setup.

nbval compares the outputs of ``# NBVAL_CHECK_OUTPUT`` cells; stderr (warnings, progress bars) is
not part of what a notebook promises, so stderr streams are dropped from both sides before comparing.
"""

import os

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

try:
    import nbval.plugin as _nbval

    _orig_compare = _nbval.IPyNbCell.compare_outputs

    def _compare_without_stderr(self, test, ref, skip_compare=None):
        def keep(outs):
            return [o for o in outs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]

        return _orig_compare(self, keep(test), keep(ref), skip_compare)

    _nbval.IPyNbCell.compare_outputs = _compare_without_stderr
except ImportError:  # pragma: no cover - nbval is a dev extra
    pass
