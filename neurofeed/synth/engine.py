"""The generative music engine: a pyo graph of the palette's voices, the sequencer on the audio clock.

:class:`Engine` is an :class:`~neurofeed.synth.base.AudioEngine` whose block callback asks the
sequencer for the notes that start in the block and starts them at their exact samples.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from neurofeed._check import check_option, check_range
from neurofeed.errors import InvalidArgumentError
from neurofeed.synth.base import FADE_IN_S, MIN_GLIDE_S, AudioEngine
from neurofeed.synth.palettes import DEFAULT_PALETTE, PALETTES, REFERENCE_LUFS
from neurofeed.synth.patch import VOICES, Patch
from neurofeed.synth.score import Note
from neurofeed.synth.sequencer import Sequencer
from neurofeed.synth.state import MusicState

__all__ = ["FADE_IN_S", "MIN_GLIDE_S", "Engine"]


class Engine(AudioEngine):
    """Generative calm music with entrainment, on pyo; a context manager.

    Entering boots the server, starts the music and fades it in; leaving (also on an
    exception) fades out, stops and closes the WAV file. The parameters not listed here are
    :class:`~neurofeed.synth.base.AudioEngine`'s.

    Parameters
    ----------
    palette : str
        How the music sounds: one of :data:`neurofeed.synth.palettes.PALETTES`.
    max_tempo_rate_bpm_per_s : float
        Largest change of tempo per second (BPM/s).
    voices : iterable of str
        Which of ``"pad"``, ``"melody"``, ``"bass"``, ``"pulse"`` to play.
    """

    def __init__(self, backend: str = "auto", *, palette: str = DEFAULT_PALETTE,
                 max_tempo_rate_bpm_per_s: float = 5.0, voices: Iterable[str] = VOICES,
                 sample_rate: int = 44100, buffer_size: int = 256, seed: int = 0,
                 ceiling_dbfs: float = -3.0, loudness_lufs: float = REFERENCE_LUFS,
                 ear_check: bool = False, glide_s: float = 1.0, fade_in_s: float = FADE_IN_S,
                 fade_out_s: float = 3.0, max_volume_rate_per_s: float = 0.5,
                 wav_path: str | Path | None = None, state: MusicState | None = None,
                 device: int | None = None, client_name: str = "neurofeed"):
        super().__init__(backend, sample_rate=sample_rate, buffer_size=buffer_size, seed=seed,
                         ceiling_dbfs=ceiling_dbfs, loudness_lufs=loudness_lufs, ear_check=ear_check,
                         glide_s=glide_s, fade_in_s=fade_in_s, fade_out_s=fade_out_s,
                         max_volume_rate_per_s=max_volume_rate_per_s, wav_path=wav_path, state=state,
                         device=device, client_name=client_name)
        self.palette = str(check_option("palette", palette, PALETTES))
        self._max_tempo_rate = max_tempo_rate_bpm_per_s
        self.voices = tuple(check_option("voices", v, VOICES) for v in voices)
        self._sequencer: Sequencer | None = None
        self._auditions: list[Note] = []
        # The key and mode the entrainment's carriers were last chosen for.
        self._tonality = {"bar_key": self._initial.key, "bar_mode": self._initial.mode}

    def _build(self, pyo) -> Patch:
        self._sequencer = Sequencer(self._initial, sample_rate=self._sr, seed=self._seed,
                                    max_tempo_rate_bpm_per_s=self._max_tempo_rate,
                                    sparse_melody=PALETTES[self.palette].sparse_melody)
        return Patch(pyo, self._initial, sample_rate=self._sr, palette=PALETTES[self.palette],
                     loudness_lufs=self._loudness_lufs, texture=bool(self.voices),
                     music_on=not self.ear_check, ceiling_dbfs=self._ceiling_dbfs,
                     glide_s=self._glide_s, max_volume_rate_per_s=self._max_volume_rate)

    def play_note(self, pitch: int, *, velocity: int = 80, duration_s: float = 1.0,
                  voice: str = "melody") -> None:
        """Play one note on ``voice`` at the start of the next block, for auditioning.

        The note sounds beside the music (render with no other voices to hear it alone) and
        goes in the score log like any other.

        Parameters
        ----------
        pitch : int
            MIDI note number, 0-127.
        velocity : int
            MIDI velocity, 1-127.
        duration_s : float
            Seconds from onset to the start of the release (at most 60 s).
        voice : str
            One of the palette's voices (of ``"pad"``, ``"melody"``, ``"bass"``, ``"pulse"``),
            whether the music plays it or not.

        Raises
        ------
        InvalidArgumentError
            If an argument is out of range, or the palette has no sound for ``voice``.
        """
        self._check_running()
        sounds = PALETTES[self.palette].sounds
        if check_option("voice", voice, VOICES) not in sounds:
            raise InvalidArgumentError(f"voice={voice!r} is not in the {self.palette!r} palette; "
                                       f"accepted: {', '.join(v for v in VOICES if v in sounds)}")
        note = Note(0.0, int(check_range("pitch", pitch, 0, 127)),
                    int(check_range("velocity", velocity, 1, 127)),
                    check_range("duration_s", duration_s, 0.0, 60.0, unit=" s", low_inclusive=False),
                    str(voice))
        self._auditions.append(note)  # list.append is atomic: safe beside the audio thread

    # -- the audio thread ------------------------------------------------------------------

    def _first_block(self) -> None:
        if self.ear_check:
            # The chimes sound at once; the music, silent until its first beat, fades in then.
            self._patch.entrainment.start_ear_check()
            self._patch.master.fade_in(0.0)
        else:
            self._patch.master.fade_in(self._fade_in_s)

    def _took(self, state: MusicState) -> None:
        self._sequencer.request(state)

    def _compose(self, start: int) -> tuple[list, list]:
        """The sequencer's notes and changes for the block from sample ``start``, on the engine's clock.

        The sequencer's clock starts at the music's first beat, :attr:`_music_start`.
        """
        end = start + self.buffer_size
        if end <= self._music_start:
            return [], []
        notes, changes = self._sequencer.until(end - self._music_start, self._patch.intensity)
        shift_s = self._music_start / self._sr
        return ([(onset + self._music_start, note) for onset, note in notes],
                [replace(c, time_s=c.time_s + shift_s) for c in changes])

    def _play_block(self, start: int, latency: int) -> None:
        if self.ear_check and start <= self._music_start < start + self.buffer_size:
            self._patch.fade_in_music(self._fade_in_s)  # from the block of the music's first beat
        notes, changes = self._compose(start)
        for change in changes:
            self.score.add_change(change.time_s + latency / self._sr, change.name, change.value)
        if changes:  # most blocks start no beat: nothing to compare in the audio callback
            tonality = dict(self._tonality)
            tonality.update((c.name, c.value) for c in changes if c.name in tonality)
            if tonality != self._tonality:
                self._tonality = tonality
                self._patch.entrainment.set_tonality(tonality["bar_key"], tonality["bar_mode"])
        notes = [(onset, note) for onset, note in notes if note.voice in self.voices]
        while self._auditions:
            notes.append((start, self._auditions.pop(0)))
        for onset, note in notes:
            if self._patch.play(note, onset, start):
                self.score.add_note(replace(note, time_s=(onset + latency) / self._sr))
