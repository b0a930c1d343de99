// HTML building blocks for cards: escaping for every user string, and the self-contained page
// (cards/page.html with cards/style.css inlined, a CSP that forbids any external load and any
// script but the page's own, no CDN, no network).
import { createHash } from 'node:crypto';
import { fill, template } from './templates.js';

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
  return fill(template('page.html'), {
    csp: cardCsp(scripts),
    title: escapeHtml(o.title),
    // a stylesheet cannot close its <style> early
    style: template('style.css').replace(/<\/style/gi, '<\\/style'),
    head: (o.scripts ?? []).map(inlineScript).join('\n'),
    subtitle: o.subtitle ? `<div class="meta">${escapeHtml(o.subtitle)}</div>` : '',
    body: o.body,
    tail: (o.tailScripts ?? []).map(inlineScript).join('\n'),
  });
}
