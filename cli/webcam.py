"""`vidstyle webcam`: live stylized preview of a camera."""
from __future__ import annotations

import argparse

from .common import (add_model_args, add_steady_arg, add_workers_arg, build_stylizer, check_style_args,
                     non_negative_float)

DEFAULT_FPS = 15.0
EXAMPLES = """examples:
  vidstyle webcam --style starry.jpg
  vidstyle webcam --style styles/ --size 360 --camera 1
  vidstyle webcam --style starry.jpg --fps 24     # run the model smaller when it cannot keep up
  vidstyle webcam --style starry.jpg --fps 0      # full resolution, however slow
  vidstyle webcam --style starry.jpg --steady 0.6 # strokes stay on things instead of shimmering

keys: q/Esc quit, n/p next/previous style, +/- alpha, c colour preservation on/off,
      s snapshot, r start/stop recording
"""


def register(sub) -> None:
    p = sub.add_parser("webcam", help="live stylized camera preview",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--camera", type=int, default=0, help="camera index (default 0)")
    p.add_argument("--capture-size", metavar="WxH", default="1280x720",
                   help="resolution asked of the camera (default 1280x720)")
    p.add_argument("--save-dir", default=".", help="where snapshots and recordings go (default: .)")
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
    p.set_defaults(run=run)


def run(args) -> int:
    from pathlib import Path

    from vidstyle.errors import VidstyleError
    from vidstyle.live import LiveControls, LiveRecorder, PreviewWindow, run_live
    from vidstyle.sources import CameraSource, open_camera

    try:
        cw, ch = (int(v) for v in args.capture_size.lower().split("x"))
    except ValueError:
        raise VidstyleError(f"--capture-size must look like 1280x720, got {args.capture_size!r}")
    if args.compile and args.fps:
        raise VidstyleError("--fps changes the model's working size, and a compiled model compiles "
                            "again for every size: leave out --compile or --fps")
    fps = 0.0 if args.compile else (DEFAULT_FPS if args.fps is None else args.fps)
    fixed = check_style_args(args, folders=True)
    stylizer, cache = build_stylizer(args)
    styles = fixed.styles
    if args.mask or args.weights or len(styles) > 1 and any(Path(st).is_file() for st in args.style):
        # Fixed blends and masks: every control of the file mode, without live style cycling.
        from .common import build_targets

        target_for, close_targets = build_targets(fixed, stylizer, cache)
        controls = None
        target = lambda frames: target_for(0, frames)  # noqa: E731
    else:
        controls = LiveControls(cache, styles, args.alpha, snapshot_dir=args.save_dir,
                                recorder_factory=lambda: LiveRecorder(args.save_dir),
                                encode=stylizer.style_stats, color=args.preserve_color)
        close_targets = controls.close
        target = controls.target
    capture = open_camera(args.camera, cw, ch)
    try:
        window = PreviewWindow()
    except VidstyleError:
        capture.release()
        raise
    camera = CameraSource(capture).start()
    try:
        stats = run_live(camera, stylizer, target, window, size=args.size,
                         overlay=controls.overlay if controls else None,
                         on_key=controls.on_key if controls else None,
                         on_frame=controls.on_frame if controls else None, workers=args.workers,
                         fps=fps or None, steady=args.steady)
    finally:
        close_targets()
        camera.close()
        window.close()
    if stats.ended_by_camera:
        print("camera stopped sending frames (unplugged?); stopped cleanly")
    print(f"{stats.frames} frames, {stats.fps:.1f} FPS ({stylizer.model_name} model on {stylizer.device}), "
          f"latency p50 {stats.latency_ms(50):.0f} ms p95 {stats.latency_ms(95):.0f} ms, "
          f"{stats.dropped} camera frames skipped")
    if stats.work_sizes and min(stats.work_sizes) < max(stats.work_sizes):
        print(f"model working size {min(stats.work_sizes)}-{max(stats.work_sizes)} px "
              f"(last {stats.work_sizes[-1]} px) for --fps {fps:g}")
    for path in controls.snapshots if controls else []:
        print(f"snapshot: {path}")
    return 0
