"""The progress bar: ``tqdm.auto`` draws a widget in Jupyter (with the ``[notebook]``
extra, which brings ipywidgets) and text on a terminal.

Imported here once, with tqdm's notices about which one it chose silenced:
they are noise for our users.
"""

from __future__ import annotations

import warnings

from tqdm.std import TqdmWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", TqdmWarning)
    from tqdm.auto import tqdm

__all__ = ["tqdm"]
