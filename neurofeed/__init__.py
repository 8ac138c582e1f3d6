"""neurofeed: a real-time EEG neurofeedback music engine.

EEG comes in from a BrainFlow board, an LSL stream or a recorded file
(:mod:`neurofeed.acquire`), is turned into band powers and features
(:mod:`neurofeed.bands`), mapped by a protocol onto a music state, and played by a
pyo engine (:mod:`neurofeed.synth`).
"""

from neurofeed.errors import NeurofeedError
from neurofeed.log import set_log_level

__version__ = "0.1.0"

__all__ = ["NeurofeedError", "__version__", "set_log_level"]
