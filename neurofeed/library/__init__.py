"""The music library: recorded tracks analysed (tempo, key, loudness, brightness, arousal), stored
for the clinic or one client with the client's ratings, for the playlist preset to play.

docs/library.md describes what is measured and how, and what is stored.
"""

from neurofeed.library.analysis import ANALYSIS_VERSION, MIN_TRACK_S, analyse
from neurofeed.library.batch import AUDIO_SUFFIXES, read_audio
from neurofeed.library.store import LIBRARY_FILE, AddReport, Library, library_folder, session_tracks
from neurofeed.library.track import RATINGS, Track, TrackAnalysis

__all__ = ["ANALYSIS_VERSION", "AUDIO_SUFFIXES", "LIBRARY_FILE", "MIN_TRACK_S", "RATINGS", "AddReport",
           "Library", "Track", "TrackAnalysis", "analyse", "library_folder", "read_audio", "session_tracks"]
