// An example card type. Copy it into your project's cards/ folder, then use it in a flow:
//
//   @card({ type: 'word-stats' })
//   @step async transcribe() { this.transcript = …; this.next(this.end); }
//
// A card type gets the task (its artifacts are read when awaited: `await task.data.x`) and every
// component class (`c.Markdown`, `c.Table`, `c.WordCloud`, `c.VegaLite`, …), and returns the
// components to put on the card, before whatever the step appended itself.
import { defineCardType } from 'flowbook';

export default defineCardType({
  type: 'word-stats',
  description: "word counts of the task's transcript or text artifact",
  async render(task, c) {
    const source = task.artifacts.includes('transcript') ? 'transcript' : task.artifacts.includes('text') ? 'text' : undefined;
    if (!source) return [new c.Markdown(`No \`transcript\` or \`text\` artifact in ${task.pathspec}.`)];
    const value = (await task.data[source]) as string | { text?: string };
    const text = typeof value === 'string' ? value : (value?.text ?? '');
    const words = text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
    const counts = new Map<string, number>();
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
    const top = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
    return [
      new c.Markdown(`## Words in \`${source}\`\n${words.length} words, ${counts.size} distinct.`),
      new c.Table(top.map(([word, count]) => ({ word, count }))),
      new c.WordCloud(top.map(([word, count]) => ({ word, count })), { height: 240 }),
    ];
  },
});
