// The seed flow: transcribe videos (a YouTube URL or playlist, a file of URLs, local audio) with
// a Whisper model — or the offline pocketsphinx engine — in parallel, then analyse the text.
//
//   npx flowbook run flows/youtube_transcription.ts --urls samples --model auto
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { FlowSpec, step, param, resources, catchErrors, card, cache, current, Markdown, Table, WordCloud, EmbeddingPlot, type Inputs } from 'flowbook';
import {
  resolveSources, fetchAudio, decodeAudio, getTranscriber, chooseAutoModel, findModel, resolveModelPath, localFootprint, transcriptionProgressLines, downloadProgressLines,
  SPHINX_MODEL, transcriptionCacheKey, type TranscriptionTask, type Transcript,
} from 'flowbook/transcribe';
import { tokenize, isStopword, wordFrequencies, wordErrorRate, trainWord2Vec, pca2d, type WordCount, type WerResult } from 'flowbook/text';

export interface ResultRow {
  title: string;
  url: string;
  engine: string;
  model: string;
  // null: not measured (the task failed) — never 0, which would read as a measurement
  audioSeconds: number | null;
  wallSeconds: number | null;
  rtf: number | null;
  words: number | null;
  /**
   * WER after Whisper-style normalization (numbers, contractions, spellings), against the
   * reference `<clip>.txt` beside the audio; null without one (every YouTube video), or when the
   * engine's text is not a transcript (a weightless test model)
   */
  wer: number | null;
  /** WER of the texts as written; null as `wer` is */
  rawWer: number | null;
  text: string;
  note: string;
  error: string;
}

const ok = (rows: ResultRow[]) => `${rows.filter((r) => !r.error).length} of ${rows.length} video(s) transcribed`;

export class YouTubeVideoTranscription extends FlowSpec {
  /**
   * On this machine a transcription holds only what its engine can use — pocketsphinx one core,
   * whisper.cpp the cores it gets — decided from --model before the tasks start; so on 2 cores
   * two pocketsphinx transcriptions run at once. Pods (--with kubernetes) request @resources.
   */
  static localResources = { transcribe: (p: Record<string, unknown>) => localFootprint(String(p.model)) };

  url = param.string('url', { default: '', help: 'a YouTube watch or playlist URL, an audio URL, a local file or directory' });
  urls = param.string('urls', { default: '', help: 'a file with one URL or path per line (# comments)' });
  model = param.string('model', { default: 'tiny', env: 'DEFAULT_MODEL_TYPE', help: "Whisper model (tiny … large-v3), sphinx-en-us, or auto" });
  title = param.string('title', { default: 'Transcripts', help: 'title of the analysis' });
  minCt = param.int('min-ct', { default: 1, help: 'minimum count of a word in the embedding' });

  modelName!: string;
  modelReason!: string;
  tasks!: TranscriptionTask[];
  skipped!: { url: string; reason: string }[];
  /** sources that could not be resolved (an unavailable video, a private playlist): a row each in the results */
  failedSources!: { url: string; reason: string }[];
  video!: TranscriptionTask;
  transcript!: Transcript;
  wer!: WerResult | null;
  rawWer!: number | null;
  error!: { type: string; message: string } | undefined;
  results!: unknown;
  rows!: ResultRow[];
  documents!: string[];
  frequencies!: WordCount[];
  embedding!: { word: string; x: number; y: number; count: number }[];

  /** Resolve the sources into one task per video, and pick the model. */
  @step
  async start() {
    if (this.model === 'auto') {
      const auto = chooseAutoModel();
      this.modelName = auto.model;
      this.modelReason = auto.reason;
    } else {
      // fail here, before any task starts, when the model is unknown or not downloaded; an alias
      // (`large`) is reported as the model it means (large-v3)
      this.modelName = this.model === SPHINX_MODEL ? this.model : findModel(this.model).name;
      this.modelReason = this.modelName === this.model ? 'given with --model' : `--model ${this.model} means ${this.modelName}`;
      if (this.modelName !== SPHINX_MODEL) resolveModelPath(this.modelName);
    }
    console.log(`model: ${this.modelName} (${this.modelReason})`);
    const resolved = await resolveSources([this.url, this.urls]);
    if (!resolved.tasks.length && !resolved.skipped.length) throw new Error('nothing to transcribe: give --url or --urls');
    for (const s of resolved.skipped) console.log(`skipping ${s.url}: ${s.reason}`);
    // the others go on; the results list each failed source with its reason
    for (const f of resolved.failed) console.log(`failed: ${f.reason}`);
    this.tasks = resolved.tasks;
    this.skipped = resolved.skipped;
    this.failedSources = resolved.failed;
    console.log(`${this.tasks.length} video(s) to transcribe${resolved.failed.length ? ` (${resolved.failed.length} source(s) failed)` : ''}`);
    this.next(this.transcribe, { foreach: 'tasks' });
  }

  /**
   * One video: fetch, decode, transcribe with as many threads as the task holds cpus; progress
   * lines every few seconds. Never twice: @cache reuses an earlier transcription of the same
   * source (its bytes, or its video id and format), engine and model file (its sha256).
   */
  @cache({ key: (self: YouTubeVideoTranscription) => transcriptionCacheKey(self.input, self.modelName) })
  @resources({ cpu: 3, memory: 12288 })
  @catchErrors({ var: 'error' })
  @card()
  @step
  async transcribe() {
    this.video = this.input;
    this.error = undefined;
    // downloads are cached beside a local datastore; with S3 (a pod) they go to local scratch
    const root = current.datastoreRoot;
    const downloads = root.startsWith('s3://') ? path.join(os.tmpdir(), 'flowbook-downloads') : path.join(root, 'downloads');
    const file = await fetchAudio(this.video, downloads, downloadProgressLines(`download ${this.video.title}`, { print: (l) => console.log(l), quietSeconds: 2 }));
    const audio = await decodeAudio(file);
    this.transcript = await getTranscriber(this.modelName).transcribe(audio, { threads: current.resources.cpu, onProgress: transcriptionProgressLines(this.video.title) });
    // a test model's empty text is not a transcript (its note says so): it has no error rate
    const ref = this.video.referencePath && fs.existsSync(this.video.referencePath) && !this.transcript.note ? fs.readFileSync(this.video.referencePath, 'utf8') : undefined;
    // fair to Whisper: "twenty" vs "20" or "it's" vs "it is" are not errors; the raw WER stays beside it
    this.wer = ref !== undefined ? wordErrorRate(ref, this.transcript.text, { normalize: 'english' }) : null;
    this.rawWer = ref !== undefined ? wordErrorRate(ref, this.transcript.text).wer : null;
    const t = this.transcript;
    console.log(`${this.video.title}: ${t.audioSeconds.toFixed(1)} s of audio in ${t.wallSeconds.toFixed(2)} s (rtf ${t.rtf.toFixed(2)}, ${current.resources.cpu} cpu${current.resources.cpu === 1 ? '' : 's'})${this.wer ? `, WER ${(this.wer.wer * 100).toFixed(1)}%` : ''}${t.note ? ` — ${t.note}` : ''}`);
    this.next(this.postprocess);
  }

  /** Gather the results, count words, embed the vocabulary; the card shows all three. */
  @card({ type: 'blank', id: 'analysis' })
  @step
  async postprocess(inputs: Inputs) {
    // what every branch shares (model, task list, skipped streams) carries on; per-video fields do not
    this.mergeArtifacts(inputs, { exclude: ['video', 'transcript', 'wer', 'rawWer', 'error'] });
    this.rows = inputs.map((i): ResultRow => {
      const video = i.video as TranscriptionTask;
      const err = i.error as { message: string } | undefined;
      const t = err ? undefined : (i.transcript as Transcript);
      const wer = err ? null : (i.wer as WerResult | null);
      return {
        title: video.title,
        url: video.url,
        engine: t?.engine ?? '',
        model: t?.model ?? this.modelName,
        audioSeconds: t?.audioSeconds ?? null,
        wallSeconds: t?.wallSeconds ?? null,
        rtf: t?.rtf ?? null,
        words: t ? tokenize(t.text).length : null,
        wer: wer ? wer.wer : null,
        rawWer: err ? null : ((i.rawWer as number | null | undefined) ?? null),
        text: t?.text ?? '',
        note: t?.note ?? '',
        error: err ? err.message : '',
      };
    });
    // a source that could not be resolved at the start is a row too, with why
    for (const f of this.failedSources ?? []) {
      this.rows.push({ title: f.url, url: f.url, engine: '', model: this.modelName, audioSeconds: null, wallSeconds: null, rtf: null, words: null, wer: null, rawWer: null, text: '', note: '', error: f.reason });
    }
    const failed = this.rows.filter((r) => r.error);
    for (const r of failed) console.log(`failed: ${r.title}: ${r.error}`);
    // @catchErrors keeps the other videos going; but a run where nothing was transcribed is no success
    if (failed.length === this.rows.length) {
      throw new Error(`no video was transcribed (${failed.length} failed): ${failed.map((r) => `${r.title}: ${r.error}`).join('; ')}`);
    }
    this.documents = this.rows.filter((r) => !r.error).map((r) => r.text);
    this.frequencies = wordFrequencies(this.documents);
    const sentences = this.documents.map((d) => tokenize(d).filter((w) => !isStopword(w)));
    const w2v = trainWord2Vec(sentences, { dim: 32, minCount: this.minCt, epochs: 20, seed: 42 });
    const pca = pca2d(w2v.vectors);
    this.embedding = w2v.vocab.map((word, k) => ({ word, x: pca.points[k][0], y: pca.points[k][1], count: w2v.counts[k] }));
    const { DataFrame } = await import('danfojs-node');
    // what was not measured is a missing value (NaN in the frame): the number columns stay numbers
    this.results = new DataFrame(this.rows);

    current.card.append(new Markdown(`# ${this.title}\n${ok(this.rows)} with **${this.modelName}** (${this.modelReason}).`));
    current.card.append(new WordCloud(this.frequencies, { title: 'Word cloud (stopwords removed)' }));
    current.card.append(new EmbeddingPlot(this.embedding, { explainedVariance: pca.explainedVariance }));
    current.card.append(new Markdown('## Each transcript'));
    current.card.append(
      new Table(this.rows.map((r) => ({ video: r.title, model: r.model, 'audio s': r.audioSeconds, RTF: r.rtf, WER: r.wer === null ? '—' : `${(r.wer * 100).toFixed(1)}%`, transcript: r.error ? `failed: ${r.error}` : r.text || r.note }))),
    );
    this.next(this.end);
  }

  /** Say how to look at the results; the cards show the run's timeline and its resource use. */
  @card({ type: 'timeline', id: 'timeline' })
  @card({ type: 'resources', id: 'resources' })
  @step
  async end() {
    console.log(`${ok(this.rows)} with ${this.modelName}${this.skipped.length ? `, ${this.skipped.length} skipped` : ''}`);
    const failed = this.rows.filter((r) => r.error);
    if (failed.length) console.log(`${failed.length} failed (listed in results.error): ${failed.map((r) => `${r.title}: ${r.error}`).join('; ')}`);
    console.log(`From a notebook or Node:  const run = await Flow('YouTubeVideoTranscription').latestSuccessfulRun; const df = await run.data.results;`);
  }
}

