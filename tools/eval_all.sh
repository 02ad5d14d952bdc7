#!/usr/bin/env bash
# Every figure in docs/training.md, measured again: lip-sync on the real-speech set per part (selection: every
# choice is made on it; test: reported only) and per channel (clean, telephone, noise, reverb, MP3), audio only and
# with speech recognition, with transcripts, under emotions; motion naturalness against corpus clips and real
# captures; emotion signatures, the style check, the style confusion matrix and an emotion track; diversity; speed.
# Usage: bash tools/eval_all.sh [DEVSET] [OUTDIR] [CORPUS]
#   DEVSET is built with `dreamtalk data realdev` (with `--extra DIR` from tools/fetch_extra_speech.py it also holds
#   the second selection part, selection2, measured too), CORPUS (held-out clips for naturalness) with
#   `dreamtalk data synth`.
set -euo pipefail
cd "$(dirname "$0")/.."
DT=${DREAMTALK:-dreamtalk}
DEV=${1:-data/realdev}
OUT=${2:-docs/eval}
CORPUS=${3:-data/synth20}
SHARED=../shared/data
mkdir -p "$OUT"
[ -f "$DEV/clips.jsonl" ] || $DT -q data realdev --out "$DEV"
for s in oracle jawflap; do
  echo "== lipsync $s"; $DT -q eval lipsync --data "$DEV" --split dev --system "$s" --json "$OUT/lipsync_$s.json"
done
PARTS="selection test"
grep -q '"selection2"' "$DEV/manifest.json" && PARTS="selection selection2 test"
for part in $PARTS; do
  for cond in "" -phone -noise -reverb -mp3; do
    echo "== lipsync dreamtalk $part$cond"
    $DT -q eval lipsync --data "$DEV" --split "$part$cond" --system dreamtalk --json "$OUT/lipsync_dreamtalk_$part$cond.json"
    echo "== lipsync dreamtalk --recognize $part$cond"
    $DT -q eval lipsync --data "$DEV" --split "$part$cond" --system dreamtalk --recognize \
        --json "$OUT/lipsync_dreamtalk_recognize_$part$cond.json"
  done
  # Long takes: the part's clips joined into takes of about 60 s (chunked encoder, chained windows, take-wide levels)
  for cond in "" -phone -noise -reverb -mp3; do
    echo "== lipsync dreamtalk --join 60 $part$cond"
    $DT -q eval lipsync --data "$DEV" --split "$part$cond" --system dreamtalk --join 60 \
        --json "$OUT/lipsync_dreamtalk_long_$part$cond.json"
    echo "== lipsync dreamtalk --recognize --join 60 $part$cond"
    $DT -q eval lipsync --data "$DEV" --split "$part$cond" --system dreamtalk --recognize --join 60 \
        --json "$OUT/lipsync_dreamtalk_recognize_long_$part$cond.json"
  done
  echo "== lipsync dreamtalk --transcript $part"
  $DT -q eval lipsync --data "$DEV" --split "$part" --system dreamtalk --transcript \
      --json "$OUT/lipsync_dreamtalk_transcript_$part.json"
  for e in happy surprised angry; do
    echo "== lipsync dreamtalk --emotion $e $part"
    $DT -q eval lipsync --data "$DEV" --split "$part" --system dreamtalk --emotion "$e" \
        --json "$OUT/lipsync_dreamtalk_${e}_$part.json"
    echo "== lipsync dreamtalk --recognize --emotion $e $part"
    $DT -q eval lipsync --data "$DEV" --split "$part" --system dreamtalk --recognize --emotion "$e" \
        --json "$OUT/lipsync_dreamtalk_recognize_${e}_$part.json"
  done
done
CAPS=()
[ -f "$SHARED/livelink_sad.csv" ] && CAPS=(--captures "$SHARED/livelink_sample.csv" "$SHARED/livelink_sad.csv")
NAT=()
[ -f "$CORPUS/clips.jsonl" ] && NAT=(--corpus "$CORPUS")
echo "== naturalness"
$DT -q eval naturalness --data "$DEV" --split test --takes 5 "${NAT[@]}" --design "${CAPS[@]}" --plot docs/naturalness.png \
    --json "$OUT/naturalness.json"
STYLE=()
[ -f "$SHARED/livelink_sad.csv" ] && STYLE=(--style-check --style-a "$SHARED/livelink_sad.csv" --style-b "$SHARED/livelink_sample.csv")
CONF=()
[ -f "$CORPUS/clips.jsonl" ] && CONF=(--style-confusion "$CORPUS")
echo "== emotion"
$DT -q eval emotion --data "$DEV" --split selection "${STYLE[@]}" "${CONF[@]}" --track-check --json "$OUT/emotion.json"
echo "== diversity"; $DT -q eval diversity --data "$DEV" --split dev --seeds 5 --json "$OUT/diversity.json"
echo "== bench"; $DT -q bench --json "$OUT/bench.json"
# recognition needs real speech: all clean dev clips end to end (16 kHz mono, so sox joins them as they are)
JOINED=$(mktemp --suffix .wav)
sox $(ls "$DEV"/audio/*.wav | grep -v -- "__") "$JOINED"
echo "== bench --recognize (dev clips joined)"
$DT -q bench --recognize --audio "$JOINED" --memory-minutes 0 --json "$OUT/bench_recognize.json"
rm -f "$JOINED"
