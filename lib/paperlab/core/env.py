"""Environment variables, parsed in one place with clear errors.

``env_flag("PAPERLAB_RETRAIN")`` accepts 1/0, true/false, yes/no, on/off in any case (empty or unset
means the default); anything else is an error naming the variable and the accepted values.
``env_int("PAPERLAB_THREADS", 2, minimum=1)`` accepts a whole number >= minimum, nothing else.
"""

from __future__ import annotations

import os

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


class EnvError(ValueError):
    """An environment variable holds a value paperlab cannot use."""


def env_flag(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    v = raw.strip().lower()
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    raise EnvError(f"{name}={raw!r} is not a yes/no value; use one of {', '.join(TRUE)} or {', '.join(FALSE)} "
                   "(any case)")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        v = int(raw.strip())
    except ValueError:
        raise EnvError(f"{name}={raw!r} is not a whole number; e.g. {name}={default}") from None
    if minimum is not None and v < minimum:
        raise EnvError(f"{name}={raw!r} must be >= {minimum}; e.g. {name}={default}")
    return v
