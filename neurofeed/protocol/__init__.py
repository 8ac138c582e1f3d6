"""Protocols: presets (TOML; built-ins in ``builtin/``) and the pure mapping from features to music."""

from neurofeed.errors import PresetError
from neurofeed.protocol.mapping import PHASES, Protocol, ProtocolStep
from neurofeed.protocol.presets import (
    Preset,
    fit_phases,
    generative_presets,
    list_presets,
    load_preset,
    preset_fields,
    with_palette,
)

__all__ = ["PHASES", "Preset", "PresetError", "Protocol", "ProtocolStep",
           "fit_phases", "generative_presets", "list_presets", "load_preset", "preset_fields", "with_palette"]
