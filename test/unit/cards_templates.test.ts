// The look of cards comes from the top-level cards/ folder: a changed color there is a changed
// card, in a flow run too; a broken template is a clear error naming the file.
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, fixture, tempDir, REPO } from '../e2e/helpers.js';
import { page } from '../../src/cards/html.js';
import { EmbeddingPlot } from '../../src/cards/components/embedding-plot.js';
import { ModelComparison } from '../../src/cards/components/model-comparison.js';

/** a copy of cards/ with one edit, as a team would make its own look */
function editedTemplates(file: string, from: string, to: string): string {
  const dir = tempDir('flowbook-card-templates-');
  fs.cpSync(path.join(REPO, 'cards'), dir, { recursive: true });
  const f = path.join(dir, file);
  const text = fs.readFileSync(f, 'utf8');
  expect(text).toContain(from);
  fs.writeFileSync(f, text.replaceAll(from, to));
  return dir;
}

afterEach(() => {
  delete process.env.FLOWBOOK_CARD_TEMPLATES;
});

describe('card templates in cards/', () => {
  it('cards/ holds the page shell, the stylesheet and a spec per built-in chart', () => {
    const files = fs.readdirSync(path.join(REPO, 'cards/charts')).sort();
    expect(files).toEqual(['embedding.vl.json', 'quality-latency.vl.json', 'resources.vl.json', 'timeline.vl.json', 'wer-by-model.vl.json', 'wordcloud.json']);
    for (const f of files) JSON.parse(fs.readFileSync(path.join(REPO, 'cards/charts', f), 'utf8'));
    expect(page({ title: 't', body: '<p>x</p>' })).toContain(fs.readFileSync(path.join(REPO, 'cards/style.css'), 'utf8').split('\n')[1]);
  });

  it('a color changed in cards/style.css and in a chart spec changes the rendered card', () => {
    process.env.FLOWBOOK_CARD_TEMPLATES = editedTemplates('style.css', '--accent: #3b6fd8', '--accent: #ff00aa');
    expect(page({ title: 't', body: '' })).toContain('--accent: #ff00aa');
    process.env.FLOWBOOK_CARD_TEMPLATES = editedTemplates('charts/embedding.vl.json', '"value": "#3b6fd8"', '"value": "#00aa55"');
    const html = new EmbeddingPlot([{ word: 'fox', x: 0, y: 1, count: 2 }]).render();
    expect(html).toContain('"color":{"value":"#00aa55"}');
  });

  it('a broken template is one clear error naming its file', () => {
    const dir = editedTemplates('charts/quality-latency.vl.json', '"width": 560', '"width": 560,,');
    process.env.FLOWBOOK_CARD_TEMPLATES = dir;
    expect(() => new ModelComparison([{ title: 'a', model: 'm', audioSeconds: 1, wallSeconds: 1, rtf: 1, cpus: 1, wer: 0.1 }]).render()).toThrow(
      `card template ${path.join(dir, 'charts/quality-latency.vl.json')} is not valid JSON`,
    );
  });

  it('a flow run with FLOWBOOK_CARD_TEMPLATES renders its cards in that look', () => {
    const dir = editedTemplates('style.css', '--accent: #3b6fd8', '--accent: #123456');
    const root = tempDir();
    const r = flowbook(['run', fixture('builtin_cards.ts'), '--quiet'], { root, env: { FLOWBOOK_CARD_TEMPLATES: dir } });
    expect(r.code, r.stderr).toBe(0);
    const cards = fs.readdirSync(root, { recursive: true }).map(String).filter((f) => f.endsWith('.html'));
    expect(cards.length).toBeGreaterThan(0);
    for (const c of cards) expect(fs.readFileSync(path.join(root, c), 'utf8')).toContain('--accent: #123456');
  });
});
