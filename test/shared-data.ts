// Where the tests find whisper.cpp's MIT test models and jfk.wav: $FLOWBOOK_SHARED_DATA, else
// ../shared/data beside the repository (where this workplace keeps them). Missing data fails the
// test file at once with the place it looked, rather than as a hung download server later.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const SHARED_DATA = path.resolve(process.env.FLOWBOOK_SHARED_DATA ?? path.join(REPO, '../shared/data'));

if (!fs.existsSync(path.join(SHARED_DATA, 'audio/jfk.wav')) || !fs.existsSync(path.join(SHARED_DATA, 'models'))) {
  throw new Error(`test data not found in ${SHARED_DATA} (audio/jfk.wav and models/for-tests-ggml-*.bin): set FLOWBOOK_SHARED_DATA to the folder that holds them`);
}

export const SHARED_MODELS = path.join(SHARED_DATA, 'models');
export const JFK = path.join(SHARED_DATA, 'audio/jfk.wav');
