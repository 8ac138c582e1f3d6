"""Protocols: presets (TOML in configs/) and the pure mapping from features to music."""

from neurofeed.protocol.mapping import PHASES, Protocol, ProtocolStep
from neurofeed.protocol.presets import (FEEDBACK_FEATURES, Preset, PresetError, fit_phases,
                                        list_presets, load_preset, preset_fields)

__all__ = ["FEEDBACK_FEATURES", "PHASES", "Preset", "PresetError", "Protocol", "ProtocolStep",
           "fit_phases", "list_presets", "load_preset", "preset_fields"]
