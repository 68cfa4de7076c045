"""The README's worked example of a claim rule prints what the rule computes."""

import re

from paperlab.core.paths import repo_root


def test_worked_example_matches_the_rule():
    text = (repo_root() / "README.md").read_text()
    assert "## How claims are judged" in text
    block = text.split("## How claims are judged", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    expected = re.search(r"# \('(\w+)', (\S+), \[(\S+), (\S+)\], (\S+)\)", block)
    assert expected, "the worked example must end with its printed result"
    code = block.rsplit("\n", 2)[0]
    ns = {}
    exec(code.replace('r["verdict"], r["estimate"], r["interval"], r["detectable"]', ""), ns)
    r = ns["r"]
    assert r["verdict"] == expected.group(1)
    for got, shown in ((r["estimate"], expected.group(2)), (r["interval"][0], expected.group(3)),
                       (r["interval"][1], expected.group(4)), (r["detectable"], expected.group(5))):
        assert abs(got - float(shown)) < 1e-4, (got, shown)
