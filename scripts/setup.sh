#!/usr/bin/env bash
# Everything flowbook needs on Debian 12 with Node 20: system packages (ffmpeg to decode audio,
# pocketsphinx for offline speech recognition, espeak-ng to make test speech, yt-dlp for YouTube,
# DejaVu fonts for cards) and the npm packages (which also builds dist/).
#   --notebooks  also Jupyter Notebook (Debian's packages; `npm run jupyter` starts it), the
#                "flowbook (TypeScript)" tslab kernel and the sample clips the notebooks transcribe
#                (scripts/make-samples.sh → samples/)
#   --test       all of that, and Debian's Chromium for the browser tests of the cards
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v pocketsphinx_continuous >/dev/null || need+=(pocketsphinx pocketsphinx-en-us)
[ -d /usr/share/pocketsphinx/model/en-us/en-us ] || need+=(pocketsphinx-en-us)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v yt-dlp >/dev/null || need+=(yt-dlp)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
notebooks=""
case "${1:-}" in
  --test) notebooks=1; command -v chromium >/dev/null || need+=(chromium) ;;
  --notebooks) notebooks=1 ;;
  "") ;;
  *) echo "usage: scripts/setup.sh [--notebooks|--test]" >&2; exit 2 ;;
esac
# `jupyter notebook` (npm run jupyter) runs the jupyter-notebook package's command: python3-notebook
# alone has the module but no command. Likewise `jupyter server` (flowbook notebook run), `jupyter nbconvert`.
if [ -n "$notebooks" ] && ! { command -v jupyter-notebook && command -v jupyter-server && command -v jupyter-nbconvert &&
  /usr/bin/python3 -c "import jupyter_server, notebook, nbconvert, nbclient, ipykernel"; } >/dev/null 2>&1; then
  need+=(jupyter-notebook jupyter-server jupyter-nbconvert python3-nbclient python3-ipykernel)
fi
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
    echo "error: missing Debian packages and no sudo to install them: as root, apt-get install ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm run build
fi
if [ -n "$notebooks" ]; then
  npm run --silent kernel:install
  # the clips notebook 01 transcribes (samples/), so it runs the first time
  bash scripts/make-samples.sh >/dev/null && echo "samples: $(ls samples | tr '\n' ' ')"
fi
