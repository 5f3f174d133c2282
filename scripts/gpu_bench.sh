#!/usr/bin/env bash
# Issue 5's GPU targets in one device-tool command: model-only FPS (512x512 >= 800 on an
# H100) and end-to-end 1080p file conversion (>= 60 FPS), full and tiny models. A file
# conversion needs PyAV, which the GPU machine lacks: its wheel travels in .whl/.
#
# Here first (both folders are git-ignored):
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d .whl av==18.1.0
#   python scripts/make_gpu_bundle.py      # data_subset/vgg19_relu4_1.safetensors (3.5 MB)
# Then: the device tool's run with command "bash scripts/gpu_bench.sh", carry [".whl",
#   "data_subset/vgg19_relu4_1.safetensors"], timeout_s 300 (working tree + av's ~35 MB wheel
#   stay under the 64 MiB the tool carries; the training data does not fit beside them, hence
#   two commands). Steps in order of issue 5's targets, so a timeout still returns the first
#   ones; run it right after scripts/gpu_job.sh while the machine is warm (a session's device
#   time is 15 minutes in all). Afterwards add bench_*.json to benchmarks/results/ and the
#   table to benchmarks/RESULTS.md. Untried on a GPU so far.
# DECODER=... picks other full-model weights (e.g. a decoder scripts/gpu_job.sh just trained).
set -uo pipefail
: "${OUT:?OUT must name the folder that comes back (the device tool sets it)}"
DEVICE=${DEVICE:-cuda}
PYTHON=${PYTHON:-python3}
DECODER=${DECODER:-weights/decoder.safetensors}
SIZES=${SIZES:-512x512 1280x720 1920x1080}
COMPILED_SIZES=${COMPILED_SIZES:-512x512}
SECONDS_EACH=${SECONDS_EACH:-2}  # per model-only row; the generated clips last about as long
LATENCY_SIZES=${LATENCY_SIZES:-512x512}  # one frame at a time: latency
LOG="$OUT/log.txt"
export VIDSTYLE_VGG_WEIGHTS=${VIDSTYLE_VGG_WEIGHTS:-data_subset/vgg19_relu4_1.safetensors}
if ls .whl/*.whl > /dev/null 2>&1; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
vidstyle() { "$PYTHON" -m cli.main "$@"; }
step() {  # step NAME COMMAND...: run it, keep its output, note a failure; the next step still runs
    echo "== $1 ($(date -u +%H:%M:%S))" >> "$LOG"
    shift
    "$@" >> "$LOG" 2>&1 || echo "!! failed with exit $?" >> "$LOG"
}

{ nvidia-smi || true; "$PYTHON" -c "import torch, av; print('torch', torch.__version__, 'av', av.__version__)"
} > "$LOG" 2>&1
step "bench full" vidstyle bench --device "$DEVICE" --model full --decoder "$DECODER" --sizes $SIZES \
    --batches 8 --seconds "$SECONDS_EACH" --json "$OUT/bench_full.json"
step "bench full compiled" vidstyle bench --device "$DEVICE" --model full --decoder "$DECODER" \
    --sizes $COMPILED_SIZES --batches 8 --compile --seconds "$SECONDS_EACH" \
    --json "$OUT/bench_full_compiled.json"
step "bench full batch 1" vidstyle bench --no-file --device "$DEVICE" --model full --decoder "$DECODER" \
    --sizes $LATENCY_SIZES --batches 1 --seconds "$SECONDS_EACH" --json "$OUT/bench_full_b1.json"
step "bench tiny" vidstyle bench --device "$DEVICE" --model tiny --sizes $SIZES --batches 8 \
    --seconds "$SECONDS_EACH" --json "$OUT/bench_tiny.json"
cat "$LOG"
