/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Debian's Chromium driven by playwright-core, for what only a browser can tell: that a card's
// scripts run without errors, load nothing from the network, draw their charts, and never run
// a string from the data.
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface PageReport {
  page: Page;
  /** console errors and warnings, and uncaught exceptions */
  problems: string[];
  /** every request that is not the page itself or a data: URI */
  requests: string[];
  /** alert/confirm/prompt dialogs that fired */
  dialogs: string[];
  charts: number;
  /** svg marks drawn by vega: symbols, rects, lines, texts */
  marks: number;
  /** words of the static word cloud */
  words: number;
  text: string;
}

/** Open a URL, wait until every vega chart has rendered (or failed), and report. */
export async function openCard(browser: Browser, url: string): Promise<PageReport> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems: string[] = [];
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (r.url() !== url && !r.url().startsWith('data:')) requests.push(r.url());
  });
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(url);
  await page.waitForFunction(() => [...document.querySelectorAll('.fb-vega')].every((el) => el.hasAttribute('data-rendered') || el.classList.contains('error')), null, { timeout: 20_000 });
  const counts = await page.evaluate(() => ({
    charts: document.querySelectorAll('.fb-vega[data-rendered] svg').length,
    marks: document.querySelectorAll('.fb-vega svg g.role-mark > path, .fb-vega svg g.role-mark > text').length,
    words: document.querySelectorAll('figure.wordcloud svg text.word').length,
    text: document.body.innerText,
  }));
  return { page, problems, requests, dialogs, ...counts };
}
