"""The live loop: newest camera frame -> model -> preview, with FPS and latency.

The display is anything with `show(rgb_image, overlay_lines) -> key or -1` and
`close()`; `PreviewWindow` is the OpenCV one, tests pass a fake. Keys go to a
`on_key(key) -> bool` callback (False stops the loop).
"""
from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .adain import StyleStats
from .errors import StyleWorkStopped, VidstyleError
from .parallel import FrameWorkers
from .sources import CameraSource
from .style_cache import MAX_STYLE_SIZE, MIN_STYLE_SIZE, STYLE_SIZE, STYLE_SIZE_STEPS
from .styles import SNAPSHOT_PREFIX
from .stylizer import Stylizer, Target, resolve_workers, tunes_threads
from .temporal import FlowBlend
from .work_size import WorkSizeController

log = logging.getLogger(__name__)
QUIT_KEYS = {ord("q"), 27}  # q, Esc
# Seconds a camera that keeps trying (a stream reconnecting) is waited for before the last
# picture is shown again, so that the window and its keys stay alive meanwhile.
_WAIT_S = 0.25
_QUIET_S = 1.0  # ... and after this long without one, the overlay says it is waiting
SILENT_CAMERA_S = 5.0  # a camera silent this long is taken for unplugged
MIRROR_KEY = ord("m")  # flips the preview left to right (PreviewWindow.mirror)
# Keys the display itself answers (PreviewWindow's methods; Displays passes them on).
DISPLAY_KEYS = {MIRROR_KEY: "toggle_mirror", ord("f"): "toggle_fullscreen", ord("h"): "toggle_overlay"}


class Messages:
    """The overlay's notes ("saved ...", "cannot use ..."): the last KEPT, each shown for
    SHOWN_S seconds (they stayed until the next one replaced them). Each is also handed to
    `echo` where that is set (a feed without a preview window, whose overlay nobody sees)."""

    KEPT, SHOWN_S = 2, 6.0

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self._clock = clock
        self._notes: deque = deque(maxlen=self.KEPT)  # (text, when)
        self.echo: Callable[[str], None] | None = None

    def append(self, text: str) -> None:
        self._notes.append((text, self._clock()))
        if self.echo is not None:
            self.echo(text)

    def current(self) -> list[str]:
        now = self._clock()
        return [text for text, when in list(self._notes) if now - when < self.SHOWN_S]

    def __getitem__(self, index: int) -> str:
        return self._notes[index][0]

    def __len__(self) -> int:
        return len(self._notes)


def draw_lines(bgr: np.ndarray, lines) -> None:
    """White text lines with a black outline, top left, in place. The outline is the same
    text drawn one pixel off in each direction: drawn thicker, OpenCV spaces its letters
    wider and the two drift apart along the line. A line wider than the picture is set
    smaller, down to a limit, then cut short."""
    import cv2

    font, room = cv2.FONT_HERSHEY_SIMPLEX, bgr.shape[1] - 20
    for i, line in enumerate(lines):
        scale = 0.6
        while scale > 0.4 and cv2.getTextSize(line, font, scale, 1)[0][0] > room:
            scale -= 0.05
        while len(line) > 4 and cv2.getTextSize(line, font, scale, 1)[0][0] > room:
            line = line[:-4].rstrip() + "..."
        x, y = 10, 24 + 22 * i
        for dx, dy in ((-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)):
            cv2.putText(bgr, line, (x + dx, y + dy), font, scale, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(bgr, line, (x, y), font, scale, (255, 255, 255), 1, cv2.LINE_AA)


class PreviewWindow:
    """An OpenCV window; raises VidstyleError when there is no display.

    With `mirror` the picture is shown flipped left to right, the way people expect to
    see themselves; only the window: recordings, snapshots and a virtual camera get
    the camera's view (video-call apps mirror their own self-view, so a mirrored feed
    would read back to front to everyone else). `fullscreen` fills the screen (keeping
    the picture's shape) and `show_overlay` False leaves out the FPS and status text:
    the two a projected or performed feed wants.
    """

    def __init__(self, title: str = "vidstyle"):
        import os
        import sys

        # Qt aborts the whole process without a display, so check first.
        if sys.platform.startswith("linux") and not (
                os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            raise VidstyleError("no display available for the preview window (DISPLAY is not set)")
        import cv2

        self._cv2 = cv2
        self.title = title
        self.mirror = False
        self.fullscreen = False
        self.show_overlay = True
        try:
            cv2.namedWindow(title, cv2.WINDOW_NORMAL)  # resizable; keeps the picture's shape
        except cv2.error as exc:
            raise VidstyleError(
                "no display available for the preview window (is DISPLAY set? "
                "opencv-python-headless has no windows)") from exc

    def show(self, rgb: np.ndarray, overlay: list[str]) -> int:
        cv2 = self._cv2
        # RGB -> BGR (and the flip) in the one copy the overlay needs anyway.
        bgr = np.ascontiguousarray(rgb[:, ::-1, ::-1] if self.mirror else rgb[..., ::-1])
        if self.show_overlay:
            draw_lines(bgr, overlay)
        cv2.imshow(self.title, bgr)
        key = cv2.waitKey(1)
        # Closing the window with the mouse counts as quitting.
        if cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            return ord("q")
        return key & 0xFF if key >= 0 else -1

    def toggle_mirror(self) -> None:
        self.mirror = not self.mirror

    def set_fullscreen(self, on: bool) -> None:
        cv2 = self._cv2
        try:
            cv2.setWindowProperty(self.title, cv2.WND_PROP_FULLSCREEN,
                                  cv2.WINDOW_FULLSCREEN if on else cv2.WINDOW_NORMAL)
        except cv2.error as exc:  # a window system without it (OpenCV's own Wayland backend)
            log.warning("the preview window cannot go fullscreen here (%s)", exc)
            return
        self.fullscreen = on

    def toggle_fullscreen(self) -> None:
        self.set_fullscreen(not self.fullscreen)

    def toggle_overlay(self) -> None:
        self.show_overlay = not self.show_overlay

    def close(self) -> None:
        self._cv2.destroyWindow(self.title)


class Displays:
    """Several displays fed the same frames (the preview and a virtual camera); the key
    pressed comes from whichever has one."""

    def __init__(self, *displays):
        self.displays = displays

    def show(self, rgb: np.ndarray, overlay: list[str]) -> int:
        keys = [d.show(rgb, overlay) for d in self.displays]
        return next((k for k in keys if k >= 0), -1)

    def _each(self, method: str) -> None:
        for d in self.displays:
            if hasattr(d, method):
                getattr(d, method)()

    def toggle_mirror(self) -> None:
        """Mirrors the displays that can be (the preview window, not a virtual camera)."""
        self._each("toggle_mirror")

    def toggle_fullscreen(self) -> None:
        self._each("toggle_fullscreen")

    def toggle_overlay(self) -> None:
        """The virtual camera never gets the overlay; this is for the preview window."""
        self._each("toggle_overlay")

    def close(self) -> None:
        for d in self.displays:
            d.close()


@dataclass
class LiveStats:
    frames: int = 0
    seconds: float = 0.0  # wall time after warm-up
    dropped: int = 0  # camera frames never shown (the model was busy)
    latencies: list = field(default_factory=list)  # grab -> displayed, seconds
    ended_by_camera: bool = False
    interrupted: bool = False  # stopped by Ctrl-C (the way to stop a feed with no window)
    interruption: KeyboardInterrupt | None = None  # what stopped it (a subclass for SIGTERM, say)
    failure: VidstyleError | None = None  # what ended it otherwise (a stream sent to broke off)
    work_sizes: list = field(default_factory=list)  # the model's working size per frame (with fps)
    shown_at: list = field(default_factory=list)  # perf_counter() at each display, warm-up too

    def recent_fps(self, frames: int) -> float:
        """The shown rate over the last `frames` frames (once --fps has settled the size)."""
        last = self.shown_at[-frames - 1:]
        return (len(last) - 1) / (last[-1] - last[0]) if len(last) > 1 and last[-1] > last[0] else 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    def latency_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies, q) * 1000) if self.latencies else 0.0


def run_live(camera: CameraSource, stylizer: Stylizer, target: Callable[[np.ndarray], Target], display,
             size: int | None = None, overlay: Callable[[], list[str]] | None = None,
             on_key: Callable[[int], bool] | None = None,
             on_frame: Callable[[np.ndarray], None] | None = None,
             max_frames: int | None = None, warmup_frames: int = 3, workers: int = 1,
             fps: float | None = None, steady: float = 0.0) -> LiveStats:
    """Run until a quit key, Ctrl-C, the camera ends (unplugged), max_frames, or a VidstyleError
    (a display or stream that fails: `failure` in the stats returned).

    `target(frames)` is called per frame (a (1, H, W, 3) batch) so live
    controls take effect at once. `m`, `f` and `h` mirror the display, make it fill the
    screen and hide its overlay text (DISPLAY_KEYS, where it has those methods); other
    keys go to `on_key`.
    `on_frame(stylized_rgb)` sees every shown frame (recording, snapshots).
    With `workers` > 1, that many frames are stylized at once (vidstyle.parallel):
    more FPS on a CPU, each frame's latency about one frame time longer.
    With `fps`, the model's working size follows vidstyle.work_size so that the
    loop shows about that many frames per second; frames keep their size.
    `steady` > 0 carries each shown frame along the camera's motion into the next
    (vidstyle.temporal.FlowBlend): less shimmer, 12-23 ms per 640x360 frame here.
    """
    workers = resolve_workers(workers, stylizer)
    stats = LiveStats()
    window: deque = deque(maxlen=30)  # recent display times, for the overlay FPS
    started = None
    shown = 0
    # With one worker, the loop's own work (the target, display, recording) runs between
    # model calls, so --fps budgets it too; waiting for the camera is not counted.
    host_seconds = {"target": 0.0, "steady": 0.0, "show": 0.0}
    blend = FlowBlend(steady) if steady else None
    dropped_before = camera.dropped  # frames the camera sent while the model was loading

    def grabbed():
        # A frame is taken only when a worker is free (ahead=0), so it is the newest one.
        while max_frames is None or shown < max_frames:
            frame = camera.read(timeout=_WAIT_S if camera.keeps_trying else SILENT_CAMERA_S)
            if frame is None and camera.keeps_trying:
                yield None, None, None  # nothing new: the last picture again, keys kept alive
                continue
            if frame is None:  # unplugged, failing, or silent for read()'s timeout
                stats.ended_by_camera = True
                return
            batch = frame.image[None]
            t0 = time.perf_counter()
            tgt = target(batch)
            host_seconds["target"] = time.perf_counter() - t0
            yield frame, batch, tgt

    def stylize(job):
        frame, batch, tgt = job
        if frame is None:
            return None, None, 0.0
        t0 = time.perf_counter()
        out = stylizer.stylize_frames(batch, tgt, size)[0]
        return frame, out, time.perf_counter() - t0

    cap = stylizer.work_size
    controller: WorkSizeController | None = None

    def follow_fps(out: np.ndarray, seconds: float) -> None:
        nonlocal controller
        if controller is None:  # the model's input size is known from the first frame
            largest = min(out.shape[:2]) if cap is None else min(cap, *out.shape[:2])
            controller = WorkSizeController(fps, largest, settle=workers)
        stats.work_sizes.append(controller.size)
        # `workers` frames run at once, so each one's time counts 1/workers, and the
        # loop's own work overlaps theirs.
        host = sum(host_seconds.values()) if workers == 1 else 0.0
        stylizer.work_size = controller.update(seconds / workers + host)

    def keys_stop(key: int) -> bool:
        """Act on a key; whether it stops the loop."""
        if key in QUIT_KEYS:
            return True
        if key in DISPLAY_KEYS and hasattr(display, DISPLAY_KEYS[key]):
            getattr(display, DISPLAY_KEYS[key])()
        elif key >= 0 and on_key and not on_key(key):
            return True
        return False

    last_out = None
    away_since = None  # when the camera last went quiet (one that keeps trying)
    try:
        with FrameWorkers(workers, tune_threads=tunes_threads(stylizer)) as pool:
            for frame, out, seconds in pool.map(stylize, grabbed(), ahead=0):
                if frame is None:  # the camera is away but coming back: hold the last picture
                    now = time.perf_counter()
                    away_since = away_since or now
                    # Said once it is more than a slow sender's gap between frames.
                    status = camera.status or (
                        "waiting for frames..." if now - away_since > _QUIET_S else None)
                    # (before any picture, a black one: the window and its keys stay alive)
                    held = last_out if last_out is not None else np.zeros((360, 640, 3), np.uint8)
                    lines = (overlay() if overlay else []) + ([status] if status else [])
                    if keys_stop(display.show(held, lines)):
                        break
                    continue
                away_since = None
                if fps:
                    follow_fps(out, seconds)
                if blend is not None:
                    t0 = time.perf_counter()
                    out = blend(frame.image, out)
                    host_seconds["steady"] = time.perf_counter() - t0
                now = time.perf_counter()
                window.append(now)
                stats.shown_at.append(now)
                shown_fps = (len(window) - 1) / (window[-1] - window[0]) if len(window) > 1 else 0.0
                lines = [f"{shown_fps:5.1f} FPS"] + (overlay() if overlay else [])
                if controller is not None and controller.size < controller.largest:
                    lines.append(f"model at {controller.size} px for {fps:g} FPS")
                key = display.show(out, lines)
                last_out = out
                if on_frame:
                    on_frame(out)
                host_seconds["show"] = time.perf_counter() - now
                shown += 1
                if shown == warmup_frames:
                    started = time.perf_counter()
                elif shown > warmup_frames:
                    stats.frames += 1
                    stats.latencies.append(time.perf_counter() - frame.grabbed_at)
                if keys_stop(key):
                    break
                if max_frames is not None and shown >= max_frames:
                    break
    except KeyboardInterrupt as exc:  # a stop like any other: the caller still gets the numbers
        stats.interrupted, stats.interruption = True, exc
    except VidstyleError as exc:  # the caller still gets the numbers, then says what ended the feed
        stats.failure = exc
    finally:
        stylizer.work_size = cap
    if started is not None:
        stats.seconds = time.perf_counter() - started
    stats.dropped = camera.dropped - dropped_before
    return stats


def unique_path(folder, stem: str, suffix: str):
    """folder/stem.suffix, or stem_2, stem_3... if taken (never overwrite a recording).

    A name whose hidden partial file exists is taken too: a recording being finished
    in the background moves from that name to the final one (a hard link, then the
    partial name goes), so looking at the partial name first never misses it."""
    from .outputs import partial_path

    path = folder / f"{stem}{suffix}"
    n = 2
    while partial_path(path).exists() or path.exists():
        path = folder / f"{stem}_{n}{suffix}"
        n += 1
    return path


def _stoppable(work: Callable) -> Callable:
    """`work` for a background thread, ending quietly where its style encoding is given up."""
    def run(*args) -> None:
        try:
            work(*args)
        except StyleWorkStopped:
            pass

    return run


class LiveControls:
    """Keyboard controls for the live loop: n/p cycle styles, 1-9 pick one, +/- alpha,
    c colour preservation, s snapshot, r record.

    Style statistics are computed in background threads (and cached), so
    switching style or colour mode never stalls the feed: what is on screen
    stays until the new statistics are ready. With colour preservation on, the
    content colours come from the frame at the time of the switch and are
    refreshed on scene changes (see color.ColorKeeper).
    With `transition` > 0 (seconds), a new style (or colour setting) fades in: the
    statistics move linearly from what was shown to the new ones, which with AdaIN
    is exactly a cross-fade of the two stylizations' targets.
    """

    def __init__(self, cache, styles: list, alpha: float = 1.0, alpha_step: float = 0.1,
                 snapshot_dir=None, recorder_factory=None, encode=None, color: str | None = None,
                 transition: float = 0.0, clock: Callable[[], float] = time.perf_counter,
                 watch=None, fixed: tuple[Callable[[np.ndarray | None], Target], str] | None = None,
                 cycle: float = 0.0, stop_style_work: Callable[[], None] | None = None,
                 echo: Callable[[str], None] | None = None):
        """color: None, "match" or "luminance" (see color.py); `c` toggles it (match by default).
        watch: a styles.StyleFolderWatch whose new images join the styles while the feed runs.
        fixed: (target function, what makes it fixed) for a blend or mask that stays as
        given: snapshots and recording still work; the style, alpha and colour keys say why
        they do nothing.
        cycle: seconds after which the next style comes on by itself (0: never), for an
        installation left running; switching by hand starts the wait again.
        stop_style_work: what close() calls to give up the style being encoded in the
        background (Stylizer.stop_style_work), instead of waiting for it.
        echo: given each overlay note as it comes (Messages.echo), from the first."""
        if not styles:
            raise VidstyleError("no style images given")
        self._cache = cache
        self.styles = [Path(s) for s in styles]
        self.index = 0
        self.alpha = alpha
        self.alpha_step = alpha_step
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir else Path.cwd()
        self._recorder_factory = recorder_factory
        self.recorder = None
        self.snapshots: list = []
        self.messages = Messages(clock)
        self.messages.echo = echo
        self._fixed = fixed
        self._failed: set = set()
        first, self._stats = 0, {}
        if not fixed:  # the first style that can be read starts the show (a folder's may not)
            first, stats = self._first_usable(cache)
            self._stats = {first: stats}
        self._pending_size = cache.style_size  # the size asked for last (None: the default)
        self._resizing: threading.Thread | None = None  # set_style_size's worker
        self._stale: set = set()  # styles shown at a size given up, until their new statistics come
        self._closing = False
        self._background: list[threading.Thread] = []  # workers close() waits for
        self.index = self._shown = first
        self._encode = encode  # Stylizer.style_stats, needed for colour preservation
        self._stop_style_work = stop_style_work
        self.color_mode = color or "match"
        self.color = bool(color) and encode is not None
        self._keepers: dict = {}
        self._color_stats: dict = {}
        self._color_job: threading.Thread | None = None
        self._last_frame: np.ndarray | None = None
        self._lock = threading.Lock()
        self.transition = transition
        self._clock = clock
        self.cycle = cycle
        self._cycled_at: float | None = None  # when the style last changed (the cycle's start)
        self._destination: StyleStats | None = None  # the statistics the last frame was heading for
        self._on_screen: StyleStats | None = None  # what it got (mid-fade: a mix)
        self._last_luminance = False
        self._fade: tuple | None = None  # (statistics faded from, start time)
        self._saving: list[LiveRecorder] = []  # recordings being finished in the background
        self._save_errors: list[Exception] = []  # why background finishes failed, for close()
        self.recordings: list = []  # the recordings saved so far
        self._watch = watch
        self._scan: threading.Thread | None = None  # the folder scan runs off the frame loop
        self._found: deque = deque()  # new style files from the last scan, for the frame loop
        # Warm the cache for the other styles without blocking the first frame.
        others = range(0) if fixed else range(first + 1, len(self.styles))  # (a blend has its own)
        self._worker = self._in_background(self._prepare, others)

    @property
    def unusable_styles(self) -> list[Path]:
        """The style images that could not be read (a broken file in a style folder)."""
        with self._lock:
            return [self.styles[i] for i in sorted(self._failed)]

    def _first_usable(self, cache) -> tuple[int, StyleStats]:
        """(index, statistics) of the first style that can be read; those before it are noted
        as failed. Raises the first one's error where none can."""
        first_error = None
        for i, path in enumerate(self.styles):
            try:
                return i, cache.stats_for_path(path)
            except VidstyleError as exc:
                first_error = first_error or exc
                self._failed.add(i)
                self.messages.append(f"cannot use {path.name}: {exc}")
        raise first_error

    def _in_background(self, work, *args, name: str = "vidstyle-styles") -> threading.Thread:
        """Run `work(*args)` in a thread that close() waits for: a thread still inside torch
        when the interpreter exits aborts the process ("terminate called without an active
        exception", exit 134: seen quitting while styles were being encoded)."""
        thread = threading.Thread(target=_stoppable(work), args=args, daemon=True, name=name)
        self._background = [t for t in self._background if t.is_alive()] + [thread]
        thread.start()
        return thread

    def _prepare(self, indices, until_resized: bool = False) -> None:
        """Statistics of these styles at the cache's size, in the background; given up once
        the styles are taken at another size (or, `until_resized`, once one is asked for),
        or on closing."""
        cache = self._cache
        for i in indices:
            if self._closing or self._cache is not cache or (until_resized and
                                                             self._pending_size != cache.style_size):
                return
            try:
                stats = cache.stats_for_path(self.styles[i])
            except Exception as exc:  # one bad style must not stop the others
                self.messages.append(f"cannot use {self.styles[i].name}: {exc}")
                with self._lock:
                    self._failed.add(i)
                continue
            with self._lock:
                if self._cache is not cache:
                    return
                self._stats[i] = stats
                self._stale.discard(i)

    @property
    def style_size(self) -> int | None:
        """The size the styles are taken at (None: the default, vidstyle.style_cache)."""
        return self._cache.style_size

    def shown_style_size(self) -> int:
        """The size the shown style is taken at (with the default, its own shorter side up to
        STYLE_SIZE: vidstyle.style_cache.style_image)."""
        if self._cache.style_size is not None:
            return self._cache.style_size
        from PIL import Image

        try:
            with Image.open(self.styles[self._shown]) as image:
                return min(STYLE_SIZE, *image.size)
        except OSError:
            return STYLE_SIZE

    def set_style_size(self, size: float) -> None:
        """Take the styles at shorter side `size` (how busy their texture is): the current
        style's statistics are computed in the background and replace the shown ones (fading
        with a transition), then the others'. One size is worked on at a time: a knob turned
        through many sizes meanwhile costs the one in hand and the last."""
        if self._fixed:
            self.messages.append(f"{self._fixed[1]} stays as given (name a folder to switch styles)")
            return
        if not math.isfinite(size):
            return
        size = min(MAX_STYLE_SIZE, max(MIN_STYLE_SIZE, round(size)))
        with self._lock:
            if size == self._pending_size:
                return
            self._pending_size = size
            if self._resizing is not None:
                return  # it takes the new size when done with the one in hand
            self._resizing = threading.Thread(target=_stoppable(self._resize), daemon=True,
                                              name="vidstyle-style-size")
            self._resizing.start()

    def _resize(self) -> None:
        """Worker of set_style_size: the statistics at the size asked for last, swapped in,
        then the other styles'."""
        while True:
            with self._lock:
                size = self._pending_size
                missing = [i for i in range(len(self.styles))
                           if (i not in self._stats or i in self._stale) and i not in self._failed]
                if self._closing or (size == self._cache.style_size and not missing):
                    self._resizing = None
                    return
                first = [self.index] + ([self._shown] if self._shown != self.index else [])
            if size == self._cache.style_size:  # (asked for another, then back: what was given up)
                self._prepare(missing, until_resized=True)
                continue
            cache = self._cache.at_size(size)
            ready = {}
            for i in first:
                try:
                    ready[i] = cache.stats_for_path(self.styles[i])
                except Exception as exc:
                    self.messages.append(f"cannot use {self.styles[i].name}: {exc}")
            done = set(ready)
            with self._lock:
                if self._pending_size != size:  # another size was asked for meanwhile
                    continue
                # What is on screen stays until its own style's new statistics come.
                ready.setdefault(self._shown, self._stats[self._shown])
                self._stale = {self._shown} - done
                self._cache, self._stats, self._failed = cache, ready, set()
                # Colour-kept statistics are remade at the new size: the screen's own stay until then.
                self._keepers.clear()
                self._color_stats = {key: stats for key, stats in self._color_stats.items()
                                     if key[0] == self._shown}
            self._prepare([i for i in range(len(self.styles)) if i not in done], until_resized=True)

    def step_style_size(self, steps: int) -> None:
        """One step along STYLE_SIZE_STEPS from the size asked for last, or the shown style's
        ([ and ] keys); none past the ends."""
        current = self._pending_size if self._pending_size is not None else self.shown_style_size()
        if steps > 0:
            size = next((s for s in STYLE_SIZE_STEPS if s > current), None)
        else:
            size = next((s for s in reversed(STYLE_SIZE_STEPS) if s < current), None)
        if size is not None:
            self.set_style_size(size)

    def target(self, frames: np.ndarray | None = None) -> Target:
        if self._fixed:
            return self._fixed[0](frames)
        with self._lock:
            colour = self.color and frames is not None
            if self.index != self._shown and self.index in self._stats:
                # With colours kept, a new style waits for its colour-matched statistics too,
                # so the picture changes once, fading from the old style to the final new one.
                if colour:
                    self._maybe_refresh_colors(frames, self.index)
                if not colour or (self.index, self.color_mode) in self._color_stats:
                    self._shown = self.index
            stats = self._stats[self._shown]
            if colour:
                self._maybe_refresh_colors(frames, self._shown)
                stats = self._color_stats.get((self._shown, self.color_mode), stats)
            luminance = self.color and self.color_mode == "luminance" and \
                (self._shown, self.color_mode) in self._color_stats
            return Target(self._faded(stats, luminance), self.alpha, luminance_only=luminance)

    def _faded(self, stats: StyleStats, luminance: bool) -> StyleStats:
        """`stats`, or a step on the way there from what the last frame got (lock held)."""
        now = self._clock()
        if luminance != self._last_luminance:  # luminance-only on or off: no in-between, a cut
            self._fade = None
        elif self.transition > 0 and self._destination is not None and stats is not self._destination:
            self._fade = (self._on_screen, now)  # from what is on screen, possibly mid-fade
        self._destination, self._last_luminance = stats, luminance
        shown = stats
        if self._fade is not None:
            start_stats, start = self._fade
            t = (now - start) / self.transition
            if t < 1.0:
                shown = StyleStats.combine([start_stats, stats], [1.0 - t, t])
            else:
                self._fade = None
        self._on_screen = shown
        return shown

    def _maybe_refresh_colors(self, frames: np.ndarray, index: int) -> None:
        """Start a background computation of style `index`'s colour-matched statistics when
        it has none or the scene's colours moved (lock held)."""
        from .color import ColorKeeper

        if self._color_job and self._color_job.is_alive():
            return
        key = (index, self.color_mode)
        keeper = self._keepers.get(key)
        mean, cov = ColorKeeper.frame_colors(frames)
        if keeper is not None and not keeper.needs_refresh(mean):
            return
        path = self.styles[index]

        cache = self._cache

        def work():  # loading and encoding the style happen here, off the frame loop
            k = keeper or ColorKeeper([cache.style_image(path)], [1.0], self.color_mode, self._encode)
            stats = k.compute(mean, cov)
            with self._lock:
                if self._cache is not cache:  # made at a size given up meanwhile
                    return
                k.reference_mean = mean
                self._keepers[key] = k
                self._color_stats[key] = stats

        self._color_job = self._in_background(work, name="vidstyle-colors")

    def overlay(self) -> list[str]:
        if self._fixed:
            lines = [" + ".join(p.stem for p in self.styles) + f"  alpha {self.alpha:.1f}"]
        else:
            colour = f"  colours kept ({self.color_mode})" if self.color else ""
            number = f"{self._shown + 1}/{len(self.styles)} " if len(self.styles) > 1 else ""  # keys 1-9
            size = f"  size {self._cache.style_size}" if self._cache.style_size else ""
            lines = [f"{number}{self.styles[self._shown].stem}  alpha {self.alpha:.1f}{size}{colour}"]
        if self._shown != self.index:
            state = "cannot load" if self.index in self._failed else "loading"
            lines.append(f"{state} {self.styles[self.index].stem}...")
        if self._pending_size != self._cache.style_size:
            lines.append(f"style size {self._pending_size}...")
        if self.recorder is not None:
            lines.append("REC")
        lines.extend(f"saving {r.path.name}..." for r in list(self._saving))
        lines.extend(self.messages.current())
        return lines

    def on_frame(self, rgb: np.ndarray) -> None:
        self._last_frame = rgb
        if self.cycle > 0 and not self._fixed:
            self._cycle_styles()
        if self.recorder is not None:
            self._record(rgb)
        if self._watch is not None:
            self._watch_styles()

    def _cycle_styles(self) -> None:
        now = self._clock()
        if self._cycled_at is None:
            self._cycled_at = now
        elif now - self._cycled_at >= self.cycle and len(self.styles) > 1:
            self.index = (self.index + 1) % len(self.styles)
            self._cycled_at = now

    def _watch_styles(self) -> None:
        """Scan the style folders in the background when due; add what the last scan found.
        New styles go to the end of the list (the numbers of the others stay) and are
        prepared in the background like the first ones."""
        if (self._scan is None or not self._scan.is_alive()) and self._watch.due():
            self._scan = threading.Thread(target=lambda: self._found.extend(self._watch.scan()),
                                          daemon=True, name="vidstyle-style-folders")
            self._scan.start()
        paths = []
        while self._found:
            paths.append(self._found.popleft())
        if not paths:
            return
        start = len(self.styles)
        self.styles.extend(paths)
        names = ", ".join(f"{start + i + 1} {p.stem}" for i, p in enumerate(paths))
        self.messages.append(f"new style{'s' if len(paths) > 1 else ''}: {names}")
        self._in_background(self._prepare, range(start, len(self.styles)))

    def on_key(self, key: int) -> bool:
        ch = chr(key) if 0 <= key < 256 else ""
        if self._fixed and ch and ch in "np123456789+=-_c[]":
            self.messages.append(f"{self._fixed[1]} stays as given (name a folder to switch styles)")
        elif ch in ("n", "p"):
            self.index = (self.index + (1 if ch == "n" else -1)) % len(self.styles)
            self._cycled_at = None
        elif "1" <= ch <= "9" and int(ch) <= len(self.styles):
            self.index = int(ch) - 1
            self._cycled_at = None
        elif ch in ("+", "="):
            self.alpha = min(1.0, round(self.alpha + self.alpha_step, 3))
        elif ch in ("-", "_"):
            self.alpha = max(0.0, round(self.alpha - self.alpha_step, 3))
        elif ch in ("[", "]"):
            self.step_style_size(1 if ch == "]" else -1)
        elif ch == "s" and self._last_frame is not None:
            try:
                self.snapshots.append(self._save_snapshot(self._last_frame))
            except (OSError, VidstyleError) as exc:  # an unwritable --save-dir: say so, go on
                self.messages.append(f"cannot save a snapshot: {getattr(exc, 'strerror', None) or exc}")
        elif ch == "r":
            self.toggle_recording()
        elif ch == "c":
            if self._encode is None:
                self.messages.append("colour preservation is not available")
            else:
                self.color = not self.color
        return True

    def select(self, index: int) -> None:
        """Switch to style `index` (0-based), as the number keys do, for any number of styles
        (a remote control)."""
        if self._fixed:
            self.messages.append(f"{self._fixed[1]} stays as given (name a folder to switch styles)")
        elif 0 <= index < len(self.styles):
            self.index = index
            self._cycled_at = None
        else:
            self.messages.append(f"there is no style {index + 1} (1-{len(self.styles)})")

    def set_alpha(self, alpha: float) -> None:
        """Set the content-style trade-off, held to 0..1 (a remote fader)."""
        if self._fixed:
            self.messages.append(f"{self._fixed[1]} stays as given (name a folder to switch styles)")
        elif math.isfinite(alpha):
            self.alpha = round(min(1.0, max(0.0, alpha)), 3)

    def _save_snapshot(self, rgb: np.ndarray):
        from .images import save_image
        import torch

        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        path = unique_path(self.snapshot_dir, time.strftime(f"{SNAPSHOT_PREFIX}%Y%m%d-%H%M%S"), ".png")
        save_image(torch.from_numpy(rgb).permute(2, 0, 1).float() / 255, path)
        self.messages.append(f"saved {path.name}")
        return path

    def toggle_recording(self) -> None:
        if self.recorder is None:
            if self._recorder_factory is None:
                self.messages.append("recording is not available")
                return
            try:
                self.recorder = self._recorder_factory()
            except VidstyleError as exc:  # e.g. a save folder that cannot be made: the feed goes on
                self._record_failed(exc, "cannot record")
                return
            self.messages.append(f"recording {self.recorder.path.name}")
        else:
            # Finished in the background: draining the encoder took 0.27 s at 720p on an
            # idle 2-core CPU (more with the model running), and the feed (and a
            # virtual camera) must not freeze for it.
            recorder, self.recorder = self.recorder, None
            with self._lock:
                self._saving.append(recorder)
            recorder.finish_in_background(self._saved)

    def _record(self, rgb: np.ndarray) -> None:
        try:
            self.recorder.write(rgb)
        except VidstyleError as exc:  # the file cannot be written: give it up, keep the feed
            recorder, self.recorder = self.recorder, None
            recorder.abandon()
            self._record_failed(exc, "recording stopped")

    def _record_failed(self, exc: VidstyleError, what: str) -> None:
        """Said in the overlay now and raised by close() (the overlay may be hidden)."""
        with self._lock:
            self._save_errors.append(exc)
        self.messages.append(f"{what}: {exc}")

    def _saved(self, recorder: "LiveRecorder") -> None:
        """Called in the saving thread when a recording is finished (or failed)."""
        with self._lock:
            self._saving.remove(recorder)
            if recorder.saved is not None:
                self.recordings.append(recorder.saved)
            elif isinstance(recorder.error, Exception):  # not a give-up (KeyboardInterrupt)
                self._save_errors.append(recorder.error)
        if isinstance(recorder.error, Exception):
            self.messages.append(f"recording failed: {recorder.error}")
        else:
            self.messages.append(f"saved {recorder.saved.name}" if recorder.saved else "nothing recorded")

    @property
    def finishing_recordings(self) -> bool:
        """Whether a recording is open or still being finished (what close() waits for)."""
        return self.recorder is not None or bool(self._saving)

    def close(self) -> None:
        """Finish the open recording and wait for those finishing in the background; then
        raise the first failure among them. An interruption (Ctrl-C) meanwhile gives up
        every unfinished one: no partial file stays."""
        with self._lock:
            self._closing = True  # the background workers stop after the statistics in hand
            resizing = self._resizing
        if self._stop_style_work is not None:  # ... or within a layer of the style in hand
            self._stop_style_work()
        recorder, self.recorder = self.recorder, None
        errors = []
        try:
            if recorder is not None:
                try:
                    path = recorder.finish()
                except Exception as exc:  # reported once the others are saved
                    errors.append(exc)
                else:
                    if path is not None:
                        self.recordings.append(path)
            for saving in list(self._saving):
                saving.wait()
        except KeyboardInterrupt:
            self._give_up_saving()
            self._wait_for_workers(resizing)
            raise
        self._wait_for_workers(resizing)
        errors += self._save_errors
        if errors:
            raise errors[0]

    @property
    def preparing_styles(self) -> bool:
        """Whether styles (or their statistics at another size, or with kept colours) are
        being encoded in the background: close() waits for that."""
        with self._lock:
            threads = [self._resizing, *self._background]
        return any(t is not None and t.is_alive() for t in threads)

    def _wait_for_workers(self, resizing) -> None:
        """Wait for the style workers, through Ctrl-C too: a thread still inside torch as
        Python exits aborts the process (exit 134). They stop after the encoding in hand."""
        interrupted = False
        for thread in [resizing, *self._background]:
            while thread is not None and thread.is_alive():
                try:
                    thread.join()
                except KeyboardInterrupt:
                    interrupted = True
        if interrupted:
            raise KeyboardInterrupt

    def _give_up_saving(self) -> None:
        saving = list(self._saving)
        for recorder in saving:  # stop every encoder first, then wait for them
            recorder.discard()
        try:
            for recorder in saving:
                recorder.wait()
        finally:  # even if yet another Ctrl-C cuts the wait short
            for recorder in saving:
                recorder.remove_partial()


class LiveRecorder:
    """Records shown frames to a video file (wall-clock timestamps, ms time base).

    The file is written under a hidden partial name and moved to `path` (or, where
    another program took that name meanwhile, the next free one) when finished.
    """

    def __init__(self, folder, rate: float = 30.0):
        from fractions import Fraction

        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VidstyleError(f"cannot create folder {folder}: {exc.strerror}") from exc
        self._stem = time.strftime(f"{SNAPSHOT_PREFIX}%Y%m%d-%H%M%S")
        self.path = unique_path(folder, self._stem, ".mp4")
        self._rate = Fraction(rate).limit_denominator(1000)
        self._sink = None
        self._t0 = None
        self.saved = None  # the finished file, once finish() has returned it
        self.error: BaseException | None = None  # why a background finish failed
        self._closing = None  # the sink being finished
        self._saver: threading.Thread | None = None
        self._discarded = False
        self._lock = threading.Lock()

    @property
    def _partial(self):
        from .outputs import partial_path

        return partial_path(self.path)

    def write(self, rgb: np.ndarray) -> None:
        from fractions import Fraction

        from .sinks import VideoFileSink

        if self._sink is None:
            h, w = rgb.shape[:2]
            # Claim the name now (the muxer creates the file only at its first packet), so
            # that the next recording, started while this one finishes, picks another.
            try:
                self._partial.touch()
            except OSError as exc:
                raise VidstyleError(f"cannot write to {self.path.parent}: {exc.strerror}") from exc
            try:
                self._sink = VideoFileSink(self._partial, w, h, self._rate, Fraction(1, 1000))
            except BaseException:
                self._remove_partial()
                raise
            self._t0 = time.perf_counter()
            self._last_pts = -1
        # Live frames arrive irregularly: stamp them with the wall clock (VFR).
        pts = max(self._last_pts + 1, round((time.perf_counter() - self._t0) * 1000))
        self._last_pts = pts
        self._sink.write(rgb, pts)

    def finish(self):
        """Close the file; returns its path, or None when no frame was recorded."""
        sink, self._sink = self._sink, None  # finished once, however it ends
        if sink is None:
            return None
        self._closing = sink
        if self._discarded:  # given up before this thread got here
            sink.cancel()
        try:
            sink.close()
        except BaseException:  # Ctrl-C while finishing, or a failed encoder: no half-written file left
            try:
                sink.abort()
            finally:
                self._remove_partial()
            raise
        with self._lock:  # discard() from another thread decides before the move or not at all
            if self._discarded:
                self._remove_partial()
                return None
            try:
                self.path = self._move_into_place()
            except OSError as exc:
                self._remove_partial()
                raise VidstyleError(f"cannot save {self.path.name}: {exc.strerror}") from exc
        self.saved = self.path
        return self.path

    def _move_into_place(self):
        """The partial file moved to `path`, or to the next free name if another program
        took `path` meanwhile (never replacing a file)."""
        from .outputs import move_unless_taken

        partial, path = self._partial, self.path
        while not move_unless_taken(partial, path):
            path = unique_path(path.parent, self._stem, path.suffix)
        return path

    def finish_in_background(self, on_done: Callable[["LiveRecorder"], None] | None = None) -> None:
        """finish() in a thread of its own, so the feed goes on meanwhile; `saved` or
        `error` then holds the outcome, and on_done(self) is called in that thread."""
        def run():
            try:
                self.finish()
            except BaseException as exc:  # the encoder failed (VidstyleError), or discard() came first
                self.error = exc
            if on_done is not None:
                on_done(self)

        self._closing = self._sink  # so that a discard() right away can stop its encoder
        self._saver = threading.Thread(target=run, name="vidstyle-recording", daemon=True)
        self._saver.start()

    def wait(self) -> None:
        """Until a background finish is done (a Ctrl-C can interrupt the wait)."""
        while self._saver is not None and self._saver.is_alive():
            self._saver.join(timeout=0.1)

    def discard(self) -> None:
        """Give up a background finish that has not yet moved its file into place: its
        encoder stops without flushing, and finish() removes the partial file (a finished
        file stays). Returns at once; wait() for it."""
        with self._lock:
            self._discarded = True
            closing = self._closing
        if closing is not None:
            closing.cancel()

    def remove_partial(self) -> None:
        """Remove the partial file of a discarded recording (its thread may not get to it)."""
        if self._discarded:
            self._remove_partial()

    def _remove_partial(self) -> None:
        with contextlib.suppress(OSError):  # cleanup on an error path: the error says more
            self._partial.unlink(missing_ok=True)

    def abandon(self) -> None:
        """Give up a recording that cannot go on (its file failed): nothing is kept."""
        sink, self._sink = self._sink, None
        try:
            if sink is not None:
                sink.abort()
        finally:
            self._remove_partial()
