"""Run times quoted in the header of 07_pat.ipynb (imported by notebooks/build/pat.py).

Filled in by hand from reports/runtimes.json and data/REGISTRY.toml after `make reproduce NB=07_pat`;
every other measured number in the notebook is printed from the run itself (nb.say).
"""
RUNTIMES = {
    "RUN_SMOKE": "40 s",
    "RUN_CPU": "1 min (36 s at low load; 20 min when the 2 cores were shared with ~12 jobs)",
    "RETRAIN_LONG": "62 min (47 + 15 min)",
}
