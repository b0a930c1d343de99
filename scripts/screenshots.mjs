// The PNGs of docs/cards/, from the real-speech check of every card (bench/cards-real.mjs: both
// seed flows over about 3.5 minutes of espeak-ng speech and jfk.wav, transcribed by pocketsphinx).
//   node scripts/screenshots.mjs        (after scripts/setup.sh --test and npm run build)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const r = spawnSync(process.execPath, [path.join(REPO, 'bench/cards-real.mjs'), '--screenshots'], { stdio: 'inherit', cwd: REPO });
process.exit(r.status ?? 1);
