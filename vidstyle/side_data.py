"""What FFmpeg hands on with a decoded frame besides its pixels (display matrix, HDR light
levels), read alike from the PyAV versions in use."""
from __future__ import annotations


def frame_side_data(frame, name: str) -> bytes | None:
    """The bytes of a frame's side data of this kind (av.sidedata.sidedata.Type's name:
    "DISPLAYMATRIX", "CONTENT_LIGHT_LEVEL"), or None where it has none."""
    import av

    wanted = getattr(av.sidedata.sidedata.Type, name)
    entries = frame.side_data
    if hasattr(entries, "get"):  # PyAV 18.1.1 and later: a mapping by type
        found = entries.get(wanted)
    else:  # PyAV 18.1.0: a list of entries
        found = next((entry for entry in entries if entry.type == wanted), None)
    return None if found is None else bytes(found)
