"""`vidstyle webcam`: live stylized preview of a camera (or of a video file played live)."""
from __future__ import annotations

import argparse
import logging

from vidstyle.stream_capture import is_stream_url  # no av or torch: cheap to import

from .common import (UNINTERRUPTIBLE_WAIT, InterruptsHeld, Terminated, add_model_args, add_steady_arg,
                     add_workers_arg, build_stylizer, check_style_args, fail, frame_dimensions,
                     non_negative_float, non_negative_int, say)

log = logging.getLogger("vidstyle.webcam")
DEFAULT_FPS = 15.0
DEFAULT_CAPTURE_SIZE = (1280, 720)
EXAMPLES = """examples:
  vidstyle webcam --style starry.jpg
  vidstyle webcam --style styles/ --size 360 --camera 1   # images added to styles/ join in
  vidstyle webcam --style starry.jpg --fps 24     # run the model smaller when it cannot keep up
  vidstyle webcam --style starry.jpg --fps 0      # full resolution, however slow
  vidstyle webcam --style starry.jpg --steady 0.6 # strokes stay on things instead of shimmering
  vidstyle webcam --style styles/ --transition 1  # a new style fades in over a second
  vidstyle webcam --style styles/ --virtual-cam   # also a camera for OBS, Zoom, Meet, browsers
  vidstyle webcam --style starry.jpg --virtual-cam /dev/video10 --no-preview  # no window; Ctrl-C stops
  vidstyle webcam --style styles/ --stream-out udp://127.0.0.1:5000   # to OBS (a Media Source)
  vidstyle webcam --style styles/ --stream-out rtmp://live.twitch.tv/app/KEY   # straight to Twitch

  vidstyle webcam --style styles/ --fullscreen --no-overlay   # a projector's picture, no text
  vidstyle webcam --style styles/ --osc 9000   # styles and alpha from an OSC controller
  vidstyle webcam --style styles/ --cycle 30 --transition 3   # a new style every 30 s, by itself
  vidstyle webcam --style styles/ --midi --midi-alpha-cc 7    # pads pick styles, fader 7 sets alpha
  vidstyle webcam --camera loop.mp4 --loop --style styles/     # a clip played live, over and over
  vidstyle webcam --camera rtsp://192.168.1.20:554/stream1 --style styles/ --reconnect  # an IP camera
  vidstyle webcam --camera http://192.168.1.30:8080/video --style styles/    # a phone camera app

keys: q/Esc quit, n/p next/previous style, 1-9 style by number, +/- alpha,
      [/] style size down/up (busier/calmer texture), c colour preservation on/off,
      m mirror on/off, f fullscreen on/off, h overlay text on/off, s snapshot,
      r start/stop recording
"""


def register(sub) -> None:
    p = sub.add_parser("webcam", help="live stylized camera preview",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Not negative: OpenCV's VideoCapture(-1) crashed the process on a machine without cameras.
    p.add_argument("--camera", type=camera_arg, default=0, metavar="N|FILE|URL",
                   help="camera index (default 0), a camera's device file (/dev/video2), a video "
                        "file or image sequence played as a live feed at its own speed (frames the "
                        "model has no time for are skipped, as with a camera; no sound), or a "
                        "network stream: rtsp:// (IP cameras), http:// (phone camera apps), "
                        "rtmp://, udp://, tcp:// (OBS, ffmpeg), anything FFmpeg opens")
    p.add_argument("--reconnect", action="store_true",
                   help="with --camera URL: when the stream drops or ends, hold the last picture and "
                        "open it again, at once and then every 2 s, until it is back (q or Ctrl-C stops)")
    p.add_argument("--loop", action="store_true",
                   help="with --camera FILE: start the clip again at its end (until q or Ctrl-C)")
    p.add_argument("--capture-size", metavar="WxH", type=frame_dimensions, default=None,
                   help="resolution asked of the camera (default %dx%d)" % DEFAULT_CAPTURE_SIZE)
    p.add_argument("--save-dir", help="where snapshots and recordings go (default: the current folder)")
    p.add_argument("--mirror", action="store_true",
                   help="show the preview flipped left to right, as a mirror (the m key toggles "
                        "it); recordings, snapshots and the virtual camera keep the camera's view")
    p.add_argument("--fullscreen", action="store_true",
                   help="start with the preview filling the screen, the picture's shape kept "
                        "(the f key toggles it): e.g. a projector or a second screen")
    p.add_argument("--no-overlay", action="store_true",
                   help="start without the FPS and status text on the preview (the h key "
                        "toggles it); recordings and the virtual camera never have it")
    # A live feed wants a modest size, and on a CPU the lite model (real time there).
    add_model_args(p, default_size=360, default_model="auto")
    add_steady_arg(p)
    add_workers_arg(p, default=1, help_text="frames stylized at once: 2 gives more FPS on a multi-core "
                                       "CPU, each frame shown about one frame time later (default 1)")
    p.add_argument("--fps", type=non_negative_float, metavar="N",
                   help="keep up with about N frames per second: when the model is slower, it runs "
                        "at a lower resolution (down to 96 px) and its output is scaled back up, so "
                        "detail drops instead of frames; 0 always runs at full resolution "
                        f"(default {DEFAULT_FPS:g}; 0 with --compile, which compiles once per size)")
    p.add_argument("--transition", type=non_negative_float, default=0.0, metavar="SECONDS",
                   help="a style switched to (n, p, 1-9, --cycle, OSC; --style naming a folder) or "
                        "the colour toggle fades in over this many seconds (default 0: a cut; not with "
                        "blends or masks, which stay fixed)")
    p.add_argument("--cycle", type=non_negative_float, default=0.0, metavar="SECONDS",
                   help="bring on the next style of the folder by itself every SECONDS (an installation "
                        "left running; with --transition it fades); switching by hand starts the wait "
                        "again (default 0: only by hand)")
    p.add_argument("--osc", metavar="[HOST:]PORT",
                   help="take remote control over OSC on this UDP port (e.g. 9000; all network "
                        "interfaces unless HOST is given): /vidstyle/style N, /vidstyle/alpha A, "
                        "/vidstyle/style_size N, /vidstyle/next, /prev, /color, /mirror, /fullscreen, "
                        "/overlay, /snapshot, /record, /quit (from TouchOSC, Open Stage Control, "
                        "Resolume, Max, ...)")
    midi = p.add_argument_group("MIDI controller (pip install 'vidstyle[midi]')")
    midi.add_argument("--midi", nargs="?", const="", default=None, metavar="PORT",
                      help="take pads, keys, program changes and a fader from a MIDI controller "
                           "(PORT: the input whose name contains it; default: the first one)")
    midi.add_argument("--midi-alpha-cc", type=midi_number, default=None, metavar="N",
                      help="the controller number (CC) that sets alpha (default 1, the modulation "
                           "wheel; a fader's number on a mixer-style controller)")
    midi.add_argument("--midi-size-cc", type=midi_number, default=None, metavar="N",
                      help="a controller number (CC) that sets the style size, a knob from a busy "
                           "texture (0) to a calm one (127) (default: none)")
    midi.add_argument("--midi-base-note", type=midi_number, default=None, metavar="NOTE",
                      help="the note that picks style 1; each note above picks the next style "
                           "(default 36, C1: the first pad of most pad controllers)")
    out = p.add_argument_group("virtual camera and streaming")
    out.add_argument("--virtual-cam", nargs="?", const="", default=None, metavar="DEVICE",
                     help="also send the stylized feed (without the overlay) to a virtual camera "
                          "that OBS, Zoom, Meet or a browser can pick; DEVICE names one (e.g. "
                          "/dev/video10; default: the first free one). Needs pyvirtualcam "
                          "(pip install pyvirtualcam) and v4l2loopback on Linux or OBS "
                          "Studio on Windows/macOS")
    out.add_argument("--stream-out", metavar="URL",
                     help="also send the stylized feed (without the overlay) as a live H.264 stream, "
                          "no driver needed: rtmp://... (Twitch, YouTube, a media server), "
                          "udp://HOST:PORT or tcp://HOST:PORT (MPEG-TS: an OBS Media Source, ffplay, "
                          "VLC), rtsp://... (publishing to an RTSP server)")
    out.add_argument("--no-preview", action="store_true",
                     help="no preview window (with --virtual-cam or --stream-out, e.g. on a machine "
                          "with no display); Ctrl-C stops")
    p.set_defaults(run=run)


def run(args) -> int:
    import contextlib
    from pathlib import Path

    import numpy as np

    from vidstyle.errors import VidstyleError
    # (vidstyle.live imports OpenCV, which must come before PyAV: tests/test_import_order.py)
    from vidstyle.live import Displays, PreviewWindow, run_live
    from vidstyle.outputs import check_writable
    from vidstyle.sources import CameraSource

    plays_file = is_video_file(args.camera)
    stream = is_stream_url(args.camera)
    if (plays_file or stream) and args.capture_size is not None:
        raise VidstyleError("--capture-size is what a camera is asked for; a "
                            + ("stream comes at its sender's size" if stream else "video file plays at its "
                               "own size") + " (--size sets the stylized size)")
    if args.reconnect and not stream:
        raise VidstyleError("--reconnect opens a network stream again when it drops: name one with "
                            "--camera URL (rtsp://, http://, udp://, ...)")
    if args.loop and not plays_file:
        raise VidstyleError("--loop starts a video file again at its end: name one with --camera FILE")
    cw, ch = args.capture_size or DEFAULT_CAPTURE_SIZE
    if args.save_dir is None:  # the current folder: a read-only one only matters at a snapshot
        args.save_dir = "."
        try:
            check_writable(Path("snapshot.png"))
        except VidstyleError as exc:
            log.warning("%s: snapshots and recordings need --save-dir", exc)
    else:
        if Path(args.save_dir).exists() and not Path(args.save_dir).is_dir():
            raise VidstyleError(f"--save-dir {args.save_dir} is a file; snapshots and recordings "
                                "need a folder")
        check_writable(Path(args.save_dir) / "snapshot.png")  # refused now, not at the first snapshot
    if args.compile and args.fps:
        raise VidstyleError("--fps changes the model's working size, and a compiled model compiles "
                            "again for every size: leave out --compile or --fps")
    if args.no_preview and (args.fullscreen or args.no_overlay):
        raise VidstyleError(f"--{'fullscreen' if args.fullscreen else 'no-overlay'} is for the preview "
                            "window; leave out --no-preview")
    if args.no_preview and args.virtual_cam is None and args.stream_out is None:
        raise VidstyleError("--no-preview needs --virtual-cam or --stream-out: nothing else would see "
                            "the frames")
    if args.stream_out is not None:
        from vidstyle.stream_out import stream_format

        stream_format(args.stream_out)  # a URL of a kind that cannot be sent to: refused now
    fps = 0.0 if args.compile else (DEFAULT_FPS if args.fps is None else args.fps)
    if args.midi is None and any(v is not None for v in (args.midi_alpha_cc, args.midi_base_note,
                                                          args.midi_size_cc)):
        raise VidstyleError("--midi-alpha-cc, --midi-size-cc and --midi-base-note set up --midi: add --midi")
    alpha_cc = 1 if args.midi_alpha_cc is None else args.midi_alpha_cc
    if args.midi_size_cc is not None and args.midi_size_cc == alpha_cc:
        raise VidstyleError(f"--midi-size-cc {alpha_cc} is the alpha's controller too; give it another")
    base_note = 36 if args.midi_base_note is None else args.midi_base_note
    osc_address = None
    if args.osc is not None:
        from vidstyle.osc_control import parse_listen_address

        osc_address = parse_listen_address(args.osc)
    fixed = check_style_args(args, folders=True)
    blend = fixed_blend(args, fixed.styles)
    if args.cycle and (blend or (len(fixed.styles) == 1 and not Path(args.style[0]).is_dir())):
        raise VidstyleError("--cycle switches between the styles of a folder: name a folder of styles "
                            "with --style" + (f" ({blend} stays fixed)" if blend else ""))
    if args.transition and blend:
        raise VidstyleError(f"--transition fades in a style switched to, and {blend} stays fixed: "
                            + ("to switch between the styles, put them in a folder and name that, or "
                               if blend.startswith("several") else "") + "leave out --transition")
    stack, controls = contextlib.ExitStack(), None
    # What the cleanup finishes, for a Ctrl-C or SIGTERM that arrives meanwhile.
    def being_finished() -> str:
        if controls and controls.finishing_recordings:
            return "finishing the recording"
        if controls and controls.preparing_styles:  # (said at once: it can take seconds)
            return UNINTERRUPTIBLE_WAIT
        return "closing the camera"

    held = InterruptsHeld(being_finished)
    try:
        # Camera, window and virtual camera open before the model loads: a missing one
        # costs no wait. The camera is released last (callbacks run in reverse).
        capture = open_capture(args.camera, cw, ch, loop=args.loop, reconnect=args.reconnect)
        camera = CameraSource(capture)
        stack.callback(camera.close)
        displays = []
        if not args.no_preview:
            try:
                displays.append(PreviewWindow())
            except VidstyleError as exc:
                if args.virtual_cam is None and args.stream_out is None:
                    raise
                raise VidstyleError(f"{exc}; --no-preview runs without a window") from None
            stack.callback(displays[-1].close)
            displays[-1].mirror = args.mirror
            displays[-1].show_overlay = not args.no_overlay
            if args.fullscreen:
                displays[-1].set_fullscreen(True)
            # Something to look at (and a window the desktop sees answering) while the model loads.
            displays[-1].show(np.zeros((360, 640, 3), np.uint8), ["loading the model..."])
        camera.start()
        virtual = sent = None
        if args.virtual_cam is not None or args.stream_out is not None:
            # (a stream is named by its URL without the password)
            w, h = stylized_size(camera, args, getattr(capture, "name", args.camera))
        if args.virtual_cam is not None:
            from vidstyle.virtual_camera import VirtualCamera

            virtual = VirtualCamera(w, h, fps or 30.0, device=args.virtual_cam or None)
            stack.callback(virtual.close)
            displays.append(virtual)
            print(f"virtual camera {virtual.device}: {virtual.width}x{virtual.height}"
                  + ("; Ctrl-C stops" if args.no_preview else ""))
        if args.stream_out is not None:
            from vidstyle.stream_out import StreamOut

            sent = StreamOut(args.stream_out, w, h, fps or 30.0)
            stack.callback(sent.close)
            displays.append(sent)
            print(f"streaming to {sent.name}: {sent.width}x{sent.height} H.264"
                  + ("; Ctrl-C stops" if args.no_preview else ""))
        midi = None
        if args.midi is not None:  # no controller is refused before the model loads
            from vidstyle.midi_control import MidiRemote

            midi = MidiRemote(args.midi or None, alpha_cc, base_note, args.midi_size_cc)
            stack.callback(midi.close)
            size = f", CC {args.midi_size_cc} the style size" if args.midi_size_cc is not None else ""
            print(f"MIDI input {midi.name!r}: notes from {base_note} pick styles, CC {alpha_cc} sets alpha"
                  f"{size}")
        remote = None
        if osc_address is not None:  # a port in use is refused before the model loads
            from vidstyle.osc_control import OscRemote

            remote = OscRemote(*osc_address)
            stack.callback(remote.close)
            print(f"listening for OSC on {remote.address} (/vidstyle/...)")
        stylizer, cache = build_stylizer(args)
        controls, target = live_targets(args, fixed, stylizer, cache, stack)
        display = Displays(*displays)
        from vidstyle.osc_control import RemoteKeys

        for source in (remote, midi):  # OSC and MIDI carried out between frames, each in its order
            if source is not None:
                display = RemoteKeys(display, source, controls)
        if hasattr(capture, "play"):  # a clip as the feed starts at its start, now the model is here
            capture.play()
        stats = run_live(camera, stylizer, target, display, size=args.size,
                         overlay=controls.overlay, on_key=controls.on_key,
                         on_frame=controls.on_frame, workers=args.workers,
                         fps=fps or None, steady=args.steady)
    except BaseException:  # the feed failed: finish what it recorded, then its error goes on
        close_error = close_all(stack, held)
        if close_error is not None:  # said too, or the first error would hide it
            fail(str(close_error))
        if held.terminated:  # a SIGTERM (SIGHUP) while it was finished: the exit says so (143, 129)
            raise Terminated(held.terminated) from None
        raise
    close_error = close_all(stack, held)  # said after the summary
    # The grabber's own failure (a clip that stops decoding, a driver error) is no end of the feed.
    feed_error = camera.error if stats.ended_by_camera else None
    if stats.ended_by_camera and feed_error is None:
        if stream:
            why = f" ({capture.error})" if capture.error else ""
            print(f"the stream {capture.name} ended{why}; stopped cleanly")
        else:
            print(f"{Path(args.camera).name} ended; stopped cleanly" if plays_file
                  else "camera stopped sending frames (unplugged?); stopped cleanly")
    stopped_by = stats.interruption if isinstance(stats.interruption, Terminated) else None
    signum = held.terminated or (stopped_by.signum if stopped_by else 0)  # (SIGTERM, SIGHUP)
    terminated = bool(signum)
    if stats.interrupted:
        print("stopped (terminated)" if terminated else "stopped (Ctrl-C)")
    skipped = "frames of the clip" if plays_file else "stream frames" if stream else "camera frames"
    print(f"{stats.frames} frames, {stats.fps:.1f} FPS ({stylizer.model_name} model on {stylizer.device}), "
          f"latency p50 {stats.latency_ms(50):.0f} ms p95 {stats.latency_ms(95):.0f} ms, "
          f"{stats.dropped} {skipped} skipped"
          + (f", played {capture.loops + 1} times" if plays_file and capture.loops else "")
          + (f", reconnected {capture.reconnects} time(s)" if stream and capture.reconnects else ""))
    if stats.work_sizes and min(stats.work_sizes) < max(stats.work_sizes):
        print(f"model working size {min(stats.work_sizes)}-{max(stats.work_sizes)} px "
              f"(last {stats.work_sizes[-1]} px) for --fps {fps:g}")
    if virtual is not None:
        print(f"{virtual.frames_sent} frames sent to virtual camera {virtual.device}")
    if sent is not None:
        print(f"{sent.frames_sent} frames streamed to {sent.name}"
              + (f" ({sent.dropped} dropped: the encoder or network was behind)" if sent.dropped else ""))
    if remote is not None:
        print(f"{remote.received} OSC message{'s' if remote.received != 1 else ''} received")
    if midi is not None:
        print(f"{midi.received} MIDI message{'s' if midi.received != 1 else ''} received")
    unusable = controls.unusable_styles if controls else []
    if unusable:
        print(f"{len(unusable)} style image(s) could not be used: " + ", ".join(p.name for p in unusable))
    for path in controls.snapshots if controls else []:
        print(f"snapshot: {path}")
    for path in controls.recordings if controls else []:
        print(f"recording: {path}")
    # Said after the summary and the files saved (a stream that broke off, say).
    errors = ([f"the feed stopped: {feed_error}"] if feed_error is not None else []) + \
        [str(error) for error in (stats.failure, close_error) if error is not None]
    for error in errors:
        fail(error)
    if terminated:
        return 128 + signum if errors else fail("terminated", 128 + signum)
    return 1 if errors else 0  # what a service manager reads


def midi_number(text: str) -> int:
    """A MIDI note or controller number, 0..127."""
    value = non_negative_int(text)
    if value > 127:
        raise argparse.ArgumentTypeError(f"MIDI numbers run from 0 to 127, got {value}")
    return value


def camera_arg(text: str) -> int | str:
    """A camera index (digits) or a path: a camera's device file or a video file."""
    return non_negative_int(text) if text.strip().lstrip("+-").isdigit() else text


def is_video_file(camera: int | str) -> bool:
    """Whether --camera names a file to play rather than a camera (an index or a device file)
    or a network stream."""
    return isinstance(camera, str) and not camera.startswith("/dev/") and not is_stream_url(camera)


def open_capture(camera: int | str, width: int, height: int, loop: bool, reconnect: bool = False):
    """The capture CameraSource reads: a camera by index or device file, a video file played
    live, or a network stream."""
    from vidstyle import sources
    from vidstyle.playback import PlaybackCapture
    from vidstyle.stream_capture import StreamCapture

    if is_stream_url(camera):
        return StreamCapture(camera, reconnect=reconnect)
    if is_video_file(camera):  # (started with play() once the model is there)
        return PlaybackCapture(camera, loop=loop, wait_to_play=True)
    return sources.open_camera(camera, width, height)  # looked up here, so tests can fake it


def close_all(stack, held):
    """Close the camera, windows and recordings; a recording is finished here, so a second
    Ctrl-C must not cut it off (`held`). Returns a recording's failure instead of raising it;
    a SIGTERM meanwhile is left in `held.terminated`, so the summary still comes first."""
    from vidstyle.errors import VidstyleError

    error = None
    try:
        with held:
            if held.note == UNINTERRUPTIBLE_WAIT:
                held.say(held.note)
            try:
                stack.close()
            except VidstyleError as exc:
                error = exc
    except Terminated:
        pass
    return error


def stylized_size(camera, args, name: str) -> tuple[int, int]:
    """(width, height) the stylized frames will have, from a first frame: what a virtual
    camera or an outgoing stream is opened at."""
    from vidstyle.errors import VidstyleError
    from vidstyle.images import shorter_side_dims

    # (a stream's first frame can take a while: it waits for a keyframe)
    first = camera.read(timeout=15.0 if camera.keeps_trying else 5.0, keep=True)  # (then shown too)
    if first is None:
        raise VidstyleError(f"camera {name} sends no frames")
    h, w = shorter_side_dims(*first.image.shape[:2], args.size)
    return w, h


def live_targets(args, fixed, stylizer, cache, stack):
    """(LiveControls, target function): live style cycling and keys, or, for fixed blends
    and masks, the file mode's controls with only snapshots and recording on the keys."""
    from vidstyle.live import LiveControls, LiveRecorder
    from vidstyle.styles import StyleFolderWatch

    styles = fixed.styles
    blend = fixed_blend(args, styles)
    if blend:
        from vidstyle.controls import live_target

        from .common import build_targets

        target_for, close_targets = build_targets(fixed, stylizer, cache)
        stack.callback(close_targets)
        mode = dict(fixed=(live_target(target_for), blend))
    else:
        mode = dict(encode=stylizer.style_stats, color=args.preserve_color, transition=args.transition,
                    cycle=args.cycle, stop_style_work=stylizer.stop_style_work,
                    watch=StyleFolderWatch(args.style, styles, ignore=[args.save_dir]))
    # Without a window, the overlay's notes (a style that cannot be used, an OSC message not
    # understood) are said on stderr, from the first.
    controls = LiveControls(cache, styles, args.alpha, snapshot_dir=args.save_dir,
                            recorder_factory=lambda: LiveRecorder(args.save_dir),
                            echo=say if args.no_preview else None, **mode)
    stack.callback(controls.close)
    return controls, controls.target


def fixed_blend(args, styles) -> str | None:
    """What makes the styles a fixed blend (the file mode's controls, no switching), or None
    when they are switched between (a folder's styles, or a single one)."""
    from pathlib import Path

    if args.mask:
        return "a mask"
    if args.weights:
        return "a blend by --weights"
    if len(styles) > 1 and any(Path(st).is_file() for st in args.style):
        return "several style files (a blend)"
    return None
