// Your own card types: a module in a project's cards/ folder (the worked example from
// cards/examples/) is found by @card({ type }) in a flow run; a module that fails to load names
// its file on an error card and in `flowbook card types`, and never fails the task.
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, tempDir, REPO } from './helpers.js';

const project = tempDir('flowbook-card-types-');
const root = tempDir();

const FLOW = `import { FlowSpec, step, card, current, Markdown } from 'flowbook';
export class WordsFlow extends FlowSpec {
  text!: string;
  @card({ type: 'word-stats' })
  @step async start() { this.text = 'The fox, the dog and the other fox.'; current.card.append(new Markdown('appended by the step')); this.next(this.end); }
  @card({ type: 'sparkles' })
  @step async end() {}
}
`;

beforeAll(() => {
  // a project of its own, with flowbook installed (linked) and the example card type copied in
  fs.mkdirSync(path.join(project, 'node_modules'), { recursive: true });
  fs.symlinkSync(REPO, path.join(project, 'node_modules/flowbook'));
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'my-project', type: 'module', private: true }));
  fs.mkdirSync(path.join(project, 'cards'));
  fs.copyFileSync(path.join(REPO, 'cards/examples/word-stats.ts'), path.join(project, 'cards/word-stats.ts'));
  fs.mkdirSync(path.join(project, 'flows'));
  fs.writeFileSync(path.join(project, 'flows/words.ts'), FLOW);
});

const cardOf = (step: string) => {
  const dir = fs.readdirSync(root, { recursive: true }).map(String).find((f) => f.includes(`/${step}/`) && f.endsWith('.html'))!;
  return fs.readFileSync(path.join(root, dir), 'utf8');
};

describe('user card types', () => {
  it('the example card type renders in a flow run, before what the step appended; an unknown type is an error card, not a failed task', () => {
    const r = flowbook(['run', 'flows/words.ts', '--quiet'], { root, cwd: project });
    expect(r.code, r.stderr).toBe(0);
    const html = cardOf('start');
    expect(html).toContain('8 words, 5 distinct.');
    expect(html).toMatch(/<td>the<\/td><td class="num">3<\/td>/);
    expect(html).toContain('<figure class="wordcloud">');
    expect(html.indexOf('8 words')).toBeLessThan(html.indexOf('appended by the step'));
    const end = cardOf('end');
    expect(end).toContain("unknown card type &#39;sparkles&#39; (built-in: default, blank, timeline, resources; yours: word-stats, from");
    expect(end).toContain(path.join(project, 'cards'));
  });

  it('flowbook card types lists built-in and your types; a module that fails to load is named, with exit 1', () => {
    const ok = flowbook(['card', 'types', 'flows/words.ts'], { cwd: project });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^word-stats\s+yours\s+word counts of the task's transcript or text artifact\s+\S+word-stats\.ts$/m);
    expect(ok.stdout).toMatch(/^timeline\s+built-in\s+/m);
    fs.writeFileSync(path.join(project, 'cards/broken.ts'), "import { defineCardType } from 'flowbook';\nthrow new Error('cards are hard');\nexport default defineCardType({ type: 'broken', render: () => [] });\n");
    try {
      const bad = flowbook(['card', 'types'], { cwd: project });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`error: ${path.join(project, 'cards/broken.ts')}: cards are hard`);
      // the run still succeeds; a card of the broken type would be an error card naming the file
      const r = flowbook(['run', 'flows/words.ts', '--quiet'], { root, cwd: project });
      expect(r.code, r.stderr).toBe(0);
      expect(cardOf('start')).toContain('8 words, 5 distinct.');
    } finally {
      fs.rmSync(path.join(project, 'cards/broken.ts'));
    }
  });

  it("a pod gets the project's card types: they travel in the code package", async () => {
    const { codeFiles } = await import('../../src/compute/code-package.js');
    const { files } = await codeFiles(path.join(project, 'flows/words.ts'));
    expect(files.map((f) => path.relative(project, f))).toEqual(['cards/word-stats.ts', 'flows/words.ts', 'package.json']);
  });

  it('a type name that cannot be a card type is refused when the flow is defined', async () => {
    const { card } = await import('../../src/flow/decorators.js');
    expect(() => card({ type: 'Word Stats!' })).toThrow("@card: type 'Word Stats!' is not a card type name");
  });
});
