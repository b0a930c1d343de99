// Two transcripts side by side with their word diff marked: on the left the reference (the
// larger model, or the human transcript), on the right the other model; substitutions, deletions
// (words the right side lost) and insertions (words it added) each have their own mark.
import type { AlignOp } from '../../text/wer.js';
import type { CardComponent } from './component.js';
import { escapeHtml } from '../html.js';

export interface SideBySideInput {
  title?: string;
  /** label of the left (reference) side, e.g. "large" */
  large: string;
  /** label of the right side, e.g. "tiny" */
  small: string;
  ops: AlignOp[];
}

const w = (cls: string, text: string, tip?: string) => `<span class="${cls}"${tip ? ` title="${escapeHtml(tip)}"` : ''}>${escapeHtml(text)}</span>`;

export class TranscriptSideBySide implements CardComponent {
  constructor(readonly diff: SideBySideInput) {}
  render(): string {
    const left: string[] = [];
    const right: string[] = [];
    const n = { equal: 0, substitute: 0, delete: 0, insert: 0 };
    for (const op of this.diff.ops) {
      n[op.op]++;
      if (op.op === 'equal') {
        left.push(escapeHtml(op.ref));
        right.push(escapeHtml(op.hyp));
      } else if (op.op === 'substitute') {
        left.push(w('sub', op.ref, `${this.diff.small}: ${op.hyp}`));
        right.push(w('sub', op.hyp, `${this.diff.large}: ${op.ref}`));
      } else if (op.op === 'delete') {
        left.push(w('del', op.ref, `missing in ${this.diff.small}`));
      } else {
        right.push(w('ins', op.hyp, `not in ${this.diff.large}`));
      }
    }
    const head = this.diff.title ? `<h2>${escapeHtml(this.diff.title)}</h2>` : '';
    const legend = `<div class="meta diff-legend">${w('sub', `${n.substitute} substituted`)} ${w('del', `${n.delete} deleted`)} ${w('ins', `${n.insert} inserted`)} · ${n.equal} equal</div>`;
    return `${head}${legend}<div class="side-by-side"><div><h3>${escapeHtml(this.diff.large)}</h3><p class="transcript">${left.join(' ')}</p></div><div><h3>${escapeHtml(this.diff.small)}</h3><p class="transcript">${right.join(' ')}</p></div></div>`;
  }
}
