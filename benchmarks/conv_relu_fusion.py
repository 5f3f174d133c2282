"""Convolution + ReLU fused into one oneDNN call (vidstyle.conv_relu) against the two ops.

For each model and size: model-only and end-to-end FPS with the fused stylizer and
with `fuse_relu=False`, alternating within each round; medians (on_off.py).

    python benchmarks/conv_relu_fusion.py --json benchmarks/results/conv_relu_fusion.json
"""
from on_off import main

if __name__ == "__main__":
    main("fuse_relu", "fused", "two ops", __doc__.splitlines()[0])
