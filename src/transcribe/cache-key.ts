// What a transcription's result depends on that flowbook cannot see in the flow's artifacts, as a
// @cache key: the source's content identity (a local file's bytes by sha256; a YouTube video by its
// id and the audio format flowbook asks yt-dlp for; an http URL by itself), the engine, and the
// model file's sha256 (a re-downloaded or different file under the same name is another model).
//
//   @cache({ key: (self) => transcriptionCacheKey(self.input, self.modelName) })
import crypto from 'node:crypto';
import fs from 'node:fs';
import { SPHINX_MODEL } from './catalog.js';
import { modelFileSha256 } from './models.js';
import { YOUTUBE_FORMAT, type TranscriptionTask } from './sources.js';

async function fileSha256(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 * 2 ** 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface TranscriptionKey {
  source: string;
  engine: string;
  model: string;
}

export async function transcriptionCacheKey(task: TranscriptionTask, model: string): Promise<TranscriptionKey> {
  let source: string;
  if (task.kind === 'file') {
    // a file the runner cannot read (it exists only where the task runs) is never the same: a
    // fresh nonce misses, rather than trusting its name
    source = fs.existsSync(task.url) ? `file:sha256:${await fileSha256(task.url)}` : `file:unreadable:${crypto.randomUUID()}`;
  } else if (task.kind === 'youtube') source = `youtube:${task.id}:${YOUTUBE_FORMAT}`;
  else source = `url:${task.url}`;
  if (model === SPHINX_MODEL) return { source, engine: 'pocketsphinx', model };
  return { source, engine: 'whisper.cpp', model: `${model}:sha256:${await modelFileSha256(model)}` };
}
