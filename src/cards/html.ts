// HTML building blocks for cards: escaping for every user string, and the self-contained page
// (inline CSS, a CSP that forbids any external load, no CDN, no network).

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ESC[c]);
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
th { background: #f6f7f9; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
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

const inlineScript = (s: string) => `<script>${s.replace(/<\/script/gi, '<\\/script')}</script>`;

/** What a card may load: nothing from anywhere; its own inline styles and scripts, data: images and fonts. */
export const CARD_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; font-src data:";

export function page(o: PageOptions): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CARD_CSP}">
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
