import matplotlib

matplotlib.use("Agg")
import pytest
from paperlab.core import plots


def test_block_diagram_draws_every_box_and_arrow():
    ax = plots.block_diagram({"x": (0.1, 0.5, "input"), "f": (0.5, 0.5, "encoder", "#fde"), "y": (0.9, 0.5, "out")},
                             [("x", "f"), ("f", "y", "logits", "--")], title="t")
    texts = [t.get_text() for t in ax.texts]
    assert {"input", "encoder", "out", "logits"} <= set(texts)
    assert len(ax.patches) + len([c for c in ax.get_children() if type(c).__name__ == "Annotation"]) >= 2


def test_block_diagram_rejects_unknown_boxes():
    with pytest.raises(ValueError, match="not in boxes"):
        plots.block_diagram({"x": (0.1, 0.5, "input")}, [("x", "nowhere")])
    with pytest.raises(ValueError, match="at least one box"):
        plots.block_diagram({}, [])
    with pytest.raises(ValueError, match="must be"):
        plots.block_diagram({"x": (0.1, "input")}, [])
