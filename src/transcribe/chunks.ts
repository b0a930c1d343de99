// Where long audio is cut for whisper.cpp (see whisper-worker.ts): chunks of at most 30 s,
// whisper's window, each cut at the quietest 50 ms in its last 3 s so that no word is split.
const RATE = 16000;
/** whisper's window: a chunk is at most this long */
const CHUNK = 30 * RATE;
/** a cut is searched for in the last this-many samples of a chunk */
const SEARCH = 3 * RATE;
/** energy is compared over frames of 50 ms */
const FRAME = RATE / 20;

/** Chunk boundaries (sample indices, the last one = length): each cut at the quietest frame before 30 s. */
export function chunkBounds(samples: Float32Array): number[] {
  const bounds: number[] = [];
  let at = 0;
  while (samples.length - at > CHUNK) {
    let best = at + CHUNK;
    let bestEnergy = Infinity;
    for (let f = at + CHUNK - SEARCH; f + FRAME <= at + CHUNK; f += FRAME) {
      let e = 0;
      for (let i = f; i < f + FRAME; i++) e += samples[i] * samples[i];
      if (e < bestEnergy) {
        bestEnergy = e;
        best = f + FRAME / 2;
      }
    }
    bounds.push(best);
    at = best;
  }
  bounds.push(samples.length);
  return bounds;
}

