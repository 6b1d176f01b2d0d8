"""Frames from cameras, streams, video files and images, and the live classify loop.

Public API: `open_source(spec)` and `SOURCES` (the table of Source classes, in match order),
`make_reader(source, transform, reconnect_timeout)`, `run_classification(classifier, source, ...) -> Summary`.
"""

from edgecnn.camera.pipeline import Summary, run_classification
from edgecnn.camera.readers import LatestFrameReader, SequentialReader, make_reader
from edgecnn.camera.sources import SOURCES, open_source

__all__ = [
    "SOURCES",
    "LatestFrameReader",
    "SequentialReader",
    "Summary",
    "make_reader",
    "open_source",
    "run_classification",
]
