"""Worker for tests/test_distributed.py: train a tiny MLP with core.train.fit, single process or under torchrun.

usage: python tests/_dist_worker.py OUT_DIR [--bad-init]
"""

import sys
from pathlib import Path

import torch
from paperlab.core import distributed as D
from paperlab.core.train import fit, save_checkpoint


def main(out: Path, bad_init: bool = False) -> None:
    D.init_from_env(backend="gloo")
    torch.manual_seed(0)
    x = torch.randn(96, 5)
    y = (x[:, :1] * 2 - x[:, 1:2]).tanh()
    data = torch.utils.data.TensorDataset(x, y)
    torch.manual_seed(1 + (D.rank() if bad_init else 0))
    model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    dl = D.loader(data, batch_size=32, shuffle=True, seed=7)

    def loss_fn(net, batch):
        xb, yb = batch
        return torch.nn.functional.mse_loss(net(xb), yb)

    fit(model, loss_fn, dl, epochs=5, lr=0.05, optimizer=torch.optim.SGD(model.parameters(), lr=0.05), progress=False)
    save_checkpoint({k: v.detach().clone() for k, v in model.state_dict().items()}, out / f"weights_rank{D.rank()}.pt")
    D.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]), bad_init="--bad-init" in sys.argv)


def seeded_job(seed: int, n: int = 4) -> list[float]:
    """A job for run_many tests: depends only on its arguments."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, generator=g).tolist()
