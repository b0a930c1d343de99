// HTML building blocks for cards: escaping for every user string, and the self-contained page
// (inline CSS, a CSP that forbids any external load and any script but the page's own, no CDN,
// no network).
import { createHash } from 'node:crypto';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ESC[c]);
}

/** A finite number > 0 for an option that is written into markup (a width, a size): never a string. */
export function positiveNumber(where: string, option: string, value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  throw new TypeError(`${where}: option ${option} must be a positive number, got ${oneLine(value)}`);
}

/** a value for a one-line error message: JSON, at most 80 characters */
export function oneLine(value: unknown): string {
  const s = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Only http(s), mailto and in-page links survive; anything else (javascript:, data:) becomes '#'. */
export function safeHref(href: string): string {
  return /^(https?:|mailto:|#)/i.test(href.trim()) ? href : '#';
}

const CSS = `
:root { color-scheme: light; --fg: #1d2330; --muted: #5c6573; --line: #e3e6eb; --accent: #3b6fd8; --bad: #b3261e; }
* { box-sizing: border-box; }
body { font: 14px/1.5 system-ui, -apple-system, "DejaVu Sans", sans-serif; color: var(--fg); margin: 0; padding: 24px; max-width: 1200px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; } h3 { font-size: 14px; }
.meta { color: var(--muted); font-size: 12px; margin-bottom: 16px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f6f7f9; font-weight: 600; white-space: nowrap; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f7f9; padding: 8px 12px; overflow: auto; max-height: 360px; font-size: 12px; }
.progress { background: var(--line); border-radius: 4px; height: 10px; width: 320px; overflow: hidden; }
.progress > div { background: var(--accent); height: 100%; }
.error { border-left: 4px solid var(--bad); padding: 8px 12px; background: #fdf1f0; }
.warn { color: var(--bad); font-weight: 600; }
img { max-width: 100%; }
figure { margin: 8px 0 16px; }
.fb-vega.error { color: var(--bad); }
.side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
.transcript { line-height: 1.8; }
.sub { background: #fff1c2; border-bottom: 2px solid #d4a000; }
.del { background: #fde0de; text-decoration: line-through; }
.ins { background: #dcf3e3; border-bottom: 2px solid #2a7f62; }
.advice { margin: 6px 0; } code { background: #f6f7f9; padding: 1px 4px; }
.wordcloud svg, .flow-graph { max-width: 100%; height: auto; }
`;

export interface PageOptions {
  title: string;
  subtitle?: string;
  body: string;
  /** inline scripts the page needs (vega for charts); nothing is ever loaded from the network */
  scripts?: string[];
  /** inline scripts run after the body is parsed (chart bootstrap) */
  tailScripts?: string[];
}

/**
 * The exact text an inline script element carries: `</script` cannot close it early, and line
 * breaks are what the HTML parser turns them into (it normalizes CR LF), so the hash we compute
 * is the hash the browser computes.
 */
export function scriptBody(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(/<\/script/gi, '<\\/script');
}

// the vega bundles are megabytes: hash each distinct script once per process
const hashes = new Map<string, string>();

/** CSP source for an inline script: `'sha256-…'` of its body as the page carries it. */
export function scriptHash(script: string): string {
  let h = hashes.get(script);
  if (!h) hashes.set(script, (h = `'sha256-${createHash('sha256').update(scriptBody(script), 'utf8').digest('base64')}'`));
  return h;
}

/**
 * What a card may do: load nothing from anywhere; run only the inline scripts flowbook put there,
 * each allowed by its hash. No 'unsafe-inline' for scripts (that would also allow injected event
 * handlers and javascript: URLs) and no 'unsafe-eval' (vega runs its expressions through
 * vega-interpreter), so a string that escaped escaping still cannot execute. Inline styles stay:
 * the page's own <style> and vega's tooltip styles need them, and CSS cannot run script.
 */
export function cardCsp(scripts: string[] = []): string {
  const src = [...new Set(scripts.map(scriptHash))].join(' ') || "'none'";
  return `default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; script-src ${src}; base-uri 'none'; form-action 'none'`;
}

const inlineScript = (s: string) => `<script>${scriptBody(s)}</script>`;

export function page(o: PageOptions): string {
  // the CSP is ours alone (keywords and base64 hashes: no quote or bracket to escape)
  const scripts = [...(o.scripts ?? []), ...(o.tailScripts ?? [])];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${cardCsp(scripts)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)}</title>
<style>${CSS}</style>
${(o.scripts ?? []).map(inlineScript).join('\n')}
</head><body>
<h1>${escapeHtml(o.title)}</h1>
${o.subtitle ? `<div class="meta">${escapeHtml(o.subtitle)}</div>` : ''}
${o.body}
${(o.tailScripts ?? []).map(inlineScript).join('\n')}
</body></html>
`;
}
