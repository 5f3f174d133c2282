"""Each decoder upsampling folded into the convolution after it (vidstyle.upsample_conv)
against the upsampling, padding and convolution run as they are written.

For each model and size: model-only and end-to-end FPS with the folded stylizer and
with `fold_upsampling=False`, alternating within each round; medians (on_off.py).

    python benchmarks/upsample_conv.py --sizes 256x256 640x360 1280x720 \
        --json benchmarks/results/upsample_conv.json
"""
from on_off import main

if __name__ == "__main__":
    main("fold_upsampling", "folded", "as written", __doc__.splitlines()[0])
