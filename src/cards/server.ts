// `flowbook card server`: the cards of recent runs over HTTP on 127.0.0.1.
//   /                                  index: recent runs of every flow, their status and cards
//   /view/<Flow>/<run>/<step>/<task>/<card>   the card in a sandboxed iframe, reloaded when it changes
//   /card/<Flow>/<run>/<step>/<task>/<card>   the stored card itself
//   /stamp/<Flow>/<run>/<step>/<task>/<card>  {"mtimeMs","size"}: what the viewer polls
// Every path segment is checked against the datastore's name rules before it touches the disk.
// Cards run in an iframe sandbox without same-origin, so a card cannot call the server.
// Only requests addressed to the loopback name the server listens on are answered: a web page
// that rebinds its own DNS name to 127.0.0.1 sends its own Host, and is refused (421).
// Every page is sent with a CSP whose scripts are allowed by hash only: cards may run the vega
// bundles and bootstrap this flowbook ships, the viewer its one polling script.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FlowDatastore, listFlowNames } from '../datastore/store.js';
import { checkName, checkRunId, checkTaskId } from '../datastore/names.js';
import type { RunMeta } from '../datastore/metadata.js';
import { escapeHtml, cardCsp, scriptHash } from './html.js';
import { vegaScripts } from './vega-scripts.js';
import { CARD_ID } from '../flow/decorators.js';
import { FlowUsageError, NameError } from '../errors.js';

export interface CardServer {
  url: string;
  close(): Promise<void>;
}

const RUNS_PER_FLOW = 20;

// the viewer's only script: constant (the card's path comes from the iframe's data-ref), so one
// hash allows it; it polls the card's stamp and reloads the frame when the task rewrites the card
const VIEW_SCRIPT = `(function () {
  var frame = document.getElementById('card'), ref = frame.getAttribute('data-ref'), last = null;
  function poll() {
    fetch('/stamp/' + ref).then(function (r) { return r.json(); }).then(function (s) {
      var stamp = s.mtimeMs + ':' + s.size;
      if (last !== null && stamp !== last) frame.src = '/card/' + ref + '?t=' + Date.now();
      last = stamp;
      document.getElementById('stamp').textContent = 'updated ' + new Date(s.mtimeMs).toLocaleTimeString();
    }).catch(function () {}).then(function () { setTimeout(poll, 1000); });
  }
  poll();
})();`;

const PAGE_CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src ${scriptHash(VIEW_SCRIPT)}; connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'`;
// frame-ancestors works only in a header (a <meta> CSP ignores it, with a console warning)
const PAGE_HEADER_CSP = `${PAGE_CSP}; frame-ancestors 'none'`;

let cardCspHeader: string | undefined;
/** The card header: the scripts of this flowbook's cards, by hash (a card holds no others). */
function cardHeader(): string {
  if (cardCspHeader === undefined) {
    let scripts: string[] = [];
    try {
      const v = vegaScripts();
      scripts = [...v.head, ...v.tail];
    } catch {
      // no vendored interpreter (an unbuilt tree): cards still show, their charts do not run
    }
    cardCspHeader = `${cardCsp(scripts)}; frame-ancestors 'self'`;
  }
  return cardCspHeader;
}

class BadPath extends Error {}

interface CardRef {
  flow: string;
  run: string;
  step: string;
  task: string;
  card: string;
}

function parseCardPath(parts: string[]): CardRef {
  if (parts.length !== 5) throw new BadPath('expected /<Flow>/<run>/<step>/<task>/<card>');
  const [flow, run, step, task, card] = parts.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      throw new BadPath(`bad percent-encoding in ${JSON.stringify(p)}`);
    }
  });
  checkName('flow', flow);
  checkRunId(run);
  checkName('step', step);
  checkTaskId(task);
  if (!CARD_ID.test(card)) throw new BadPath(`invalid card id ${JSON.stringify(card)}`);
  return { flow, run, step, task, card };
}

const cardKey = (store: FlowDatastore, c: CardRef) => `${store.taskKey(c.run, c.step, c.task)}/cards/${c.card}.html`;
const refPath = (c: CardRef) => [c.flow, c.run, c.step, c.task, c.card].map(encodeURIComponent).join('/');

const STYLE = `body { font: 14px/1.5 system-ui, "DejaVu Sans", sans-serif; margin: 0; padding: 16px 24px; color: #1d2330; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin: 24px 0 4px; } a { color: #3b6fd8; }
table { border-collapse: collapse; font-size: 13px; } td, th { padding: 3px 10px; border-bottom: 1px solid #e3e6eb; text-align: left; vertical-align: top; }
.running { color: #b05a1a; } .failed { color: #b3261e; } .succeeded { color: #2a7f62; } .meta { color: #5c6573; font-size: 12px; }
iframe { border: 0; width: 100%; height: calc(100vh - 60px); }`;

function shell(title: string, body: string, extraHead = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${PAGE_CSP}">${extraHead}<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

async function runCards(store: FlowDatastore, flow: string, run: string): Promise<CardRef[]> {
  const out: CardRef[] = [];
  for (const step of await store.listSteps(run)) {
    for (const task of await store.listTasks(run, step)) {
      const names = await store.backend.list(`${store.taskKey(run, step, task)}/cards`).catch(() => []);
      for (const n of names.filter((x) => x.endsWith('.html')).sort()) out.push({ flow, run, step, task, card: n.slice(0, -5) });
    }
  }
  return out;
}

async function indexPage(root: string): Promise<string> {
  const flows = await listFlowNames(root);
  let anyRunning = false;
  const sections: string[] = [];
  for (const flow of flows) {
    const store = new FlowDatastore(root, flow);
    // run ids are millisecond timestamps (or counters): newest first
    const ids = (await store.listRunIds()).sort((a, b) => (a.length - b.length) || (a < b ? 1 : -1)).slice(0, RUNS_PER_FLOW);
    const rows: string[] = [];
    for (const id of ids) {
      const meta: RunMeta | undefined = await store.readRun(id).catch(() => undefined);
      if (!meta) continue;
      anyRunning ||= meta.status === 'running';
      const cards = await runCards(store, flow, id);
      const links = cards.map((c) => `<a href="/view/${refPath(c)}">${escapeHtml(`${c.step}/${c.task} ${c.card}`)}</a>`).join('<br>') || '<span class="meta">no cards</span>';
      rows.push(`<tr><td>${escapeHtml(id)}</td><td class="${escapeHtml(meta.status)}">${escapeHtml(meta.status)}</td><td class="meta">${escapeHtml(meta.createdAt)}</td><td>${links}</td></tr>`);
    }
    sections.push(`<h2>${escapeHtml(flow)}</h2><table><thead><tr><th>run</th><th>status</th><th>started</th><th>cards</th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
  }
  const body = `<h1>flowbook cards</h1><div class="meta">${escapeHtml(root)}${anyRunning ? ' — a run is in progress: this page refreshes every 3 s' : ''}</div>${sections.join('') || '<p>No runs yet.</p>'}`;
  return shell('flowbook cards', body, anyRunning ? '<meta http-equiv="refresh" content="3">' : '');
}

function viewPage(c: CardRef): string {
  const p = refPath(c);
  const body = `<div><a href="/">← all runs</a> · <b>${escapeHtml(`${c.flow}/${c.run}/${c.step}/${c.task}`)}</b> card ${escapeHtml(c.card)} <span class="meta" id="stamp"></span></div><iframe id="card" sandbox="allow-scripts" src="/card/${escapeHtml(p)}" data-ref="${escapeHtml(p)}"></iframe><script>${VIEW_SCRIPT}</script>`;
  return shell(`${c.flow}/${c.run} ${c.card}`, body);
}

/** The Host a request must carry: the loopback names of this server's port, nothing else. */
function hostAllowed(hostHeader: string | undefined, listenHost: string, port: number): boolean {
  if (!hostHeader) return false;
  const allowed = new Set(['127.0.0.1', 'localhost', '[::1]', listenHost.includes(':') ? `[${listenHost}]` : listenHost].map((h) => `${h}:${port}`.toLowerCase()));
  return allowed.has(hostHeader.trim().toLowerCase());
}

export async function startCardServer(opts: { root: string; port?: number; host?: string }): Promise<CardServer> {
  const host = opts.host ?? '127.0.0.1';
  const send = (res: http.ServerResponse, status: number, type: string, body: string | Buffer, csp = PAGE_HEADER_CSP) => {
    res.writeHead(status, { 'content-type': type, 'content-security-policy': csp, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
    res.end(body);
  };
  let port = 0;
  const server = http.createServer(async (req, res) => {
    try {
      if (!hostAllowed(req.headers.host, host, port)) return send(res, 421, 'text/plain', `refused: the Host header does not name this server (use http://127.0.0.1:${port}/ or http://localhost:${port}/)\n`);
      // the path as sent: an origin-form target only ('//x' must not be read as a host)
      const target = req.url ?? '/';
      if (!target.startsWith('/')) return send(res, 400, 'text/plain', 'bad request target');
      const url = new URL(`http://localhost${target}`);
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed');
      const [kind, ...rest] = url.pathname.split('/').filter(Boolean);
      if (!kind) return send(res, 200, 'text/html; charset=utf-8', await indexPage(opts.root));
      if (kind === 'view' || kind === 'card' || kind === 'stamp') {
        const c = parseCardPath(rest);
        const store = new FlowDatastore(opts.root, c.flow);
        const key = cardKey(store, c);
        if (kind === 'view') return send(res, 200, 'text/html; charset=utf-8', viewPage(c));
        const st = await store.backend.stat(key);
        if (!st) return send(res, 404, 'text/plain', `no card ${c.card} for ${c.flow}/${c.run}/${c.step}/${c.task}`);
        if (kind === 'stamp') return send(res, 200, 'application/json', JSON.stringify({ mtimeMs: st.mtimeMs, size: st.size }));
        return send(res, 200, 'text/html; charset=utf-8', await store.backend.get(key), cardHeader());
      }
      return send(res, 404, 'text/plain', 'not found');
    } catch (err: any) {
      const bad = err instanceof BadPath || err instanceof NameError;
      send(res, bad ? 400 : 500, 'text/plain', bad ? err.message : 'internal error');
    }
  });
  const port0 = opts.port ?? 8324;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new FlowUsageError(`port ${port0} is in use on ${host}: pick another with --port (0 for any free port)`, { cause: err }) : err),
    );
    server.listen(port0, host, resolve);
  });
  ({ port } = server.address() as AddressInfo);
  return {
    url: `http://${host}:${port}/`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
