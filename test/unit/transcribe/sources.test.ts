// Audio sources: files, directories, URL lists, http(s) downloads, and YouTube through a
// stand-in yt-dlp on PATH that answers like the real one.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { resolveSources, fetchAudio } from '../../../src/transcribe/sources.js';

import { JFK } from '../../shared-data.js';
const FAKE_BIN = path.resolve(__dirname, '../../fixtures/bin');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-src-'));
const PATH = process.env.PATH;
let server: http.Server;
let base = '';

beforeAll(async () => {
  process.env.PATH = `${FAKE_BIN}:${PATH}`;
  process.env.FAKE_YTDLP_AUDIO = JFK;
  server = http.createServer((req, res) => {
    if (req.url === '/audio/jfk.wav') return void res.writeHead(200, { 'content-length': fs.statSync(JFK).size }).end(fs.readFileSync(JFK));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  process.env.PATH = PATH;
  await new Promise<void>((r) => server.close(() => r()));
});

describe('sources', () => {
  it('a YouTube watch URL: title, author, duration, id, publish date', async () => {
    const r = await resolveSources(['https://www.youtube.com/watch?v=abc123']);
    expect(r.tasks).toEqual([
      { id: 'abc123', title: 'Ask not <what> your country', url: 'https://www.youtube.com/watch?v=abc123', kind: 'youtube', author: 'JFK Library', durationSeconds: 11, publishDate: '1961-01-20' },
    ]);
    const file = await fetchAudio(r.tasks[0], path.join(dir, 'dl'));
    expect(fs.statSync(file).size).toBe(fs.statSync(JFK).size);
  });

  it('a playlist: live streams are skipped with a message', async () => {
    const r = await resolveSources(['https://www.youtube.com/playlist?list=PL1']);
    expect(r.tasks.map((t) => t.id)).toEqual(['abc123', 'def456']);
    expect(r.skipped).toEqual([{ url: 'https://www.youtube.com/watch?v=live001', reason: 'Live now is a live stream (skipped: it has no end)' }]);
    const soon = await resolveSources(['https://youtu.be/soon001']);
    expect(soon.tasks).toEqual([]);
    expect(soon.skipped[0].reason).toBe('Premiere tomorrow is an upcoming stream (skipped: not started)');
  });

  it('a URL list file with comments, a playlist inside, and duplicates removed', async () => {
    const list = path.join(dir, 'urls.txt');
    fs.writeFileSync(list, `# my videos\nhttps://www.youtube.com/watch?v=abc123\n\nhttps://www.youtube.com/playlist?list=PL1  # again\n${JFK}\n`);
    const r = await resolveSources([list]);
    expect(r.tasks.map((t) => t.id)).toEqual(['abc123', 'def456', 'jfk']);
    expect(r.tasks[2]).toMatchObject({ kind: 'file', referencePath: JFK.replace(/\.wav$/, '.txt') });
  });

  it('a directory of audio files, sorted', async () => {
    const d = path.join(dir, 'clips');
    fs.mkdirSync(d);
    for (const f of ['b.mp3', 'a.wav', 'notes.md']) fs.writeFileSync(path.join(d, f), 'x');
    const r = await resolveSources([d]);
    expect(r.tasks.map((t) => t.title)).toEqual(['a', 'b']);
  });

  it('an http(s) audio URL is streamed to a file; a 404 is a clear error', async () => {
    const r = await resolveSources([`${base}/audio/jfk.wav`]);
    expect(r.tasks[0]).toMatchObject({ kind: 'http', title: 'jfk' });
    const file = await fetchAudio(r.tasks[0], path.join(dir, 'http'));
    expect(fs.readFileSync(file).equals(fs.readFileSync(JFK))).toBe(true);
    const missing = (await resolveSources([`${base}/audio/missing.mp3`])).tasks[0];
    await expect(fetchAudio(missing, path.join(dir, 'http'))).rejects.toThrow(`cannot download ${base}/audio/missing.mp3: HTTP 404`);
  });

  it('bad input: missing file, empty list, unknown video, no yt-dlp', async () => {
    await expect(resolveSources([path.join(dir, 'nope.mp3')])).rejects.toThrow(`no such file, directory or URL: ${path.join(dir, 'nope.mp3')}`);
    const empty = path.join(dir, 'empty.txt');
    fs.writeFileSync(empty, '# nothing here\n\n');
    await expect(resolveSources([empty])).rejects.toThrow(`the URL list ${empty} is empty (one URL or path per line, # for comments)`);
    await expect(resolveSources(['https://www.youtube.com/watch?v=gone'])).rejects.toThrow('yt-dlp failed for https://www.youtube.com/watch?v=gone: ERROR: [youtube] gone: Video unavailable');
    process.env.PATH = fs.mkdtempSync(path.join(os.tmpdir(), 'empty-path-'));
    try {
      await expect(resolveSources(['https://www.youtube.com/watch?v=abc123'])).rejects.toThrow('yt-dlp is not installed: apt-get install yt-dlp (needed for YouTube URLs)');
    } finally {
      process.env.PATH = `${FAKE_BIN}:${PATH}`;
    }
  });

  it('a file that is not a URL list is named, with the line, and never quoted', async () => {
    const notList = path.join(dir, 'accounts.txt');
    fs.writeFileSync(notList, 'root:x:0:0:root:/root:/bin/bash\n');
    const why = (e: Error): string => e.message;
    const fails = (items: string[]) => resolveSources(items).then(() => 'resolved', why);
    expect(await fails([notList])).toBe(
      `${notList} is not an audio or video file (by its extension), a directory, or a URL list (its line 1 is neither an http(s) URL nor a file path)`,
    );
    const binary = path.join(dir, 'blob.txt');
    fs.writeFileSync(binary, Buffer.from([0x72, 0x6f, 0x6f, 0x74, 0, 1, 2]));
    expect(await fails([binary])).toMatch(/ \(it is not text\)$/);
    expect(await fails(['/dev/null'])).toBe('/dev/null is not an audio or video file, a directory or a URL list (not a regular file)');

    // a list's lines: the list and line number; a line is shown only when it looks like a path or URL, cut to 80 characters
    const list = path.join(dir, 'mixed.txt');
    const long = `/nowhere/${'a'.repeat(200)}.mp3`;
    fs.writeFileSync(list, `# clips\nsecret words here\n`);
    const msg = await fails([list]);
    expect(msg).toBe(`${list} line 2: no such file, directory or URL (not shown: it does not look like a path or URL)`);
    expect(msg).not.toContain('secret');
    // every line failed: one line with each reason
    fs.writeFileSync(list, `# clips\nsecret words here\n${long}\n${notList}\n`);
    const all = await fails([list]);
    expect(all).toMatch(new RegExp(`^no source could be resolved, all 3 failed: ${list.replace(/[.]/g, '\\.')} line 2: no such file, directory or URL \\(not shown`));
    expect(all).toContain(`${list} line 3: no such file, directory or URL: …`);
    expect(all).toContain(`${list} line 4: ${notList} is not an audio or video file`);
    expect(all).not.toMatch(/secret|root:x|\n/);
    fs.writeFileSync(list, `${long}\n`);
    const cut = await fails([list]);
    expect(cut).toBe(`${list} line 1: no such file, directory or URL: …${long.slice(-79)}`);
    expect(cut.length - `${list} line 1: no such file, directory or URL: `.length).toBe(80);
    // one bad line among good ones: it is listed as failed, the others go on
    fs.writeFileSync(list, `${JFK}\n${notList}\n`);
    const nested = await resolveSources([list]);
    expect(nested.tasks.map((t) => t.id)).toEqual(['jfk']);
    expect(nested.failed).toHaveLength(1);
    expect(nested.failed[0].url).toBe(notList);
    expect(nested.failed[0].reason).toMatch(new RegExp(`^${list.replace(/[.]/g, '\\.')} line 2: ${notList.replace(/[.]/g, '\\.')} is not an audio or video file .*its line 1 is neither`));
    expect(nested.failed[0].reason).not.toContain('root:x');
  });

  it('an unavailable video or a private playlist in a list fails alone; the others go on', async () => {
    const list = path.join(dir, 'some-gone.txt');
    fs.writeFileSync(list, [
      'https://www.youtube.com/watch?v=abc123',
      'https://www.youtube.com/watch?v=gone',
      'https://www.youtube.com/playlist?list=PLprivate',
      `${base}/audio/jfk.wav`,
    ].join('\n'));
    const r = await resolveSources([list]);
    expect(r.tasks.map((t) => t.id)).toEqual(['abc123', 'jfk']);
    expect(r.failed).toEqual([
      { url: 'https://www.youtube.com/watch?v=gone', reason: `${list} line 2: yt-dlp failed for https://www.youtube.com/watch?v=gone: ERROR: [youtube] gone: Video unavailable` },
      { url: 'https://www.youtube.com/playlist?list=PLprivate', reason: `${list} line 3: yt-dlp failed for https://www.youtube.com/playlist?list=PLprivate: ERROR: [youtube:tab] PLprivate: The playlist does not exist.` },
    ]);
    // given directly, next to a good one
    const direct = await resolveSources(['https://www.youtube.com/watch?v=gone', 'https://youtu.be/abc123']);
    expect(direct.tasks.map((t) => t.id)).toEqual(['abc123']);
    expect(direct.failed.map((f) => f.url)).toEqual(['https://www.youtube.com/watch?v=gone']);
    // all of them gone: one line that says why for each
    fs.writeFileSync(list, 'https://www.youtube.com/watch?v=gone\nhttps://www.youtube.com/playlist?list=PLprivate\n');
    await expect(resolveSources([list])).rejects.toThrow(
      `no source could be resolved, all 2 failed: ${list} line 1: yt-dlp failed for https://www.youtube.com/watch?v=gone: ERROR: [youtube] gone: Video unavailable; ` +
        `${list} line 2: yt-dlp failed for https://www.youtube.com/playlist?list=PLprivate: ERROR: [youtube:tab] PLprivate: The playlist does not exist.`,
    );
  });
});
