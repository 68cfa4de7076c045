"""Run times quoted in the header of 07_pat.ipynb (imported by notebooks/build/pat.py).

Filled in by hand from reports/runtimes.json and data/REGISTRY.toml after `make reproduce NB=07_pat`;
every other measured number in the notebook is printed from the run itself (nb.say).
"""
RUNTIMES = {
    "RUN_SMOKE": "40 s",
    "RUN_CPU": "2 min (112 s on 2 cores shared with one other job; 1-3 min evaluating the committed checkpoints)",
    "RETRAIN_LONG": "62 min (47 + 15 min)",
}
