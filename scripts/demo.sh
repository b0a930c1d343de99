#!/usr/bin/env bash
# The main job: set up (Debian packages, npm packages, samples), transcribe the samples with
# `--model auto` (Whisper tiny when its verified weights are cached, else pocketsphinx), and say
# how to look at the results.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/make-samples.sh >/dev/null
npx flowbook run flows/youtube_transcription.ts --urls samples --model auto
cat <<'TXT'

Next:
  npx flowbook dump YouTubeVideoTranscription/latest         the run's results, as tables
  node --input-type=module -e "import { Flow } from 'flowbook'; const r = await Flow('YouTubeVideoTranscription').latestSuccessfulRun; (await r.data.results).print()"
  npx flowbook run flows/model_size_comparison.ts --urls samples --models sphinx-en-us,tiny.en   (after: npx flowbook models pull tiny.en)
  npx flowbook card view YouTubeVideoTranscription/latest/postprocess   the word cloud, embedding and transcripts
  npx flowbook card server                                               every card of recent runs at http://127.0.0.1:8324/
  bash scripts/setup.sh --notebooks && npm run jupyter                   Jupyter with the flowbook (TypeScript) kernel, notebooks/ open
  npx flowbook notebook run notebooks/01_quickstart.ipynb               the quick-start notebook, headless (after --notebooks)
TXT
