#!/usr/bin/env bash
# Every figure in docs/training.md, measured again: lip-sync on the real-speech dev set (oracle, jawflap, the
# model audio-only, with speech recognition and with transcripts, under emotions), emotion signatures and the style check, diversity,
# and speed. Usage: bash tools/eval_all.sh [DEVSET] [OUTDIR]   (DEVSET is built with `dreamtalk data realdev`)
set -euo pipefail
cd "$(dirname "$0")/.."
DT=${DREAMTALK:-dreamtalk}
DEV=${1:-data/realdev}
OUT=${2:-docs/eval}
SHARED=../shared/data
mkdir -p "$OUT"
[ -f "$DEV/clips.jsonl" ] || $DT -q data realdev --out "$DEV"
for s in oracle jawflap dreamtalk; do
  echo "== lipsync $s"; $DT -q eval lipsync --data "$DEV" --system "$s" --json "$OUT/lipsync_$s.json"
done
echo "== lipsync dreamtalk --transcript"
$DT -q eval lipsync --data "$DEV" --system dreamtalk --transcript --json "$OUT/lipsync_dreamtalk_transcript.json"
for e in neutral happy surprised angry; do
  echo "== lipsync dreamtalk --recognize --emotion $e"
  $DT -q eval lipsync --data "$DEV" --system dreamtalk --recognize --emotion "$e" \
      --json "$OUT/lipsync_dreamtalk_recognize_$e.json"
done
STYLE=()
[ -f "$SHARED/livelink_sad.csv" ] && STYLE=(--style-check --style-a "$SHARED/livelink_sad.csv" --style-b "$SHARED/livelink_sample.csv")
echo "== emotion"; $DT -q eval emotion --data "$DEV" "${STYLE[@]}" --json "$OUT/emotion.json"
echo "== diversity"; $DT -q eval diversity --data "$DEV" --seeds 5 --json "$OUT/diversity.json"
echo "== bench"; $DT -q bench --json "$OUT/bench.json"
# recognition needs real speech: all dev clips end to end (16 kHz mono, so sox joins them as they are)
JOINED=$(mktemp --suffix .wav)
sox "$DEV"/audio/*.wav "$JOINED"
echo "== bench --recognize (dev clips joined)"
$DT -q bench --recognize --audio "$JOINED" --memory-minutes 0 --json "$OUT/bench_recognize.json"
rm -f "$JOINED"
