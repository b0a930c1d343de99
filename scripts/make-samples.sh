#!/usr/bin/env bash
# samples/: three short clips spoken by espeak-ng from known texts (the references sit beside
# them as .txt, so the flows report WER), plus whisper.cpp's jfk.wav when $FLOWBOOK_SHARED_DATA
# or ../shared/data has it.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p samples
say() {
  local name=$1 text=$2
  [ -f "samples/$name.wav" ] && [ -f "samples/$name.txt" ] && return 0
  printf '%s\n' "$text" > "samples/$name.txt"
  espeak-ng -s 150 -w "samples/$name.wav" "$text"
}
say weather "The weather today is sunny with a light breeze and a high of twenty degrees."
say science "Scientists measured the speed of light in a vacuum with great precision."
say kitchen "Please put the green apples and the fresh bread on the kitchen table."
for shared in ${FLOWBOOK_SHARED_DATA:+"$FLOWBOOK_SHARED_DATA/audio"} ../shared/data/audio ../../shared/data/audio; do
  if [ -f "$shared/jfk.wav" ] && [ ! -f samples/jfk.wav ]; then cp "$shared/jfk.wav" "$shared/jfk.txt" samples/; fi
done
ls samples
