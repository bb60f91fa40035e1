import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';

/** Debian's Chromium (ci/setup.sh installs it); the tests skip with this reason when it is missing. */
export const chromiumPath = '/usr/bin/chromium';
export const artifactsDir = path.join(__dirname, '..', '..', '..', 'test-artifacts');

export function chromiumMissing(): string | null {
  return fs.existsSync(chromiumPath) ? null : `${chromiumPath} not installed (bash ci/setup.sh installs Debian's chromium)`;
}

export interface PageCheck {
  readonly consoleErrors: string[];
  readonly charts: Array<{ id: string; rendered: string | null; marks: number }>;
  readonly flameGraphs: Array<{ id: string; frames: number }>;
  readonly screenshot: string;
  readonly requests: string[];
}

/**
 * Opens an HTML file in headless Chromium with no network (every non-file request is recorded and
 * aborted, so a CDN reference shows up), waits for the charts, and counts what each one drew.
 */
export async function checkReportInChromium(htmlFile: string, screenshotName: string): Promise<PageCheck> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  try {
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) { await route.continue(); return; }
      requests.push(url);
      await route.abort();
    });
    await page.goto(`file://${path.resolve(htmlFile)}`, { waitUntil: 'load' });
    await page.waitForFunction('window.meshbenchChartsReady !== undefined', undefined, { timeout: 20_000 });
    await page.evaluate('window.meshbenchChartsReady');
    const charts = await page.$$eval('.chart', (els) => els.map((el) => ({
      id: el.getAttribute('data-chart-id') ?? '',
      rendered: el.getAttribute('data-rendered'),
      // Data marks only: vega gives axes, legends and titles other roles.
      marks: [...el.querySelectorAll('g.role-mark')].reduce((n, g) => n + g.querySelectorAll('path, rect, line, text, circle').length, 0),
    })));
    const flameGraphs = await page.$$eval('.flame', (els) => els.map((el) => ({ id: el.getAttribute('data-flame-id') ?? '', frames: el.querySelectorAll('g.frame rect').length })));
    fs.mkdirSync(artifactsDir, { recursive: true });
    const screenshot = path.join(artifactsDir, `${screenshotName}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    return { consoleErrors, charts, flameGraphs, screenshot, requests };
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

/**
 * Opens an HTML file in headless Chromium (no network, as checkReportInChromium), waits for the charts,
 * and hands the page to `use`; the browser is closed afterwards, whatever `use` does.
 */
export async function withReportPage<T>(htmlFile: string, use: (page: Page) => Promise<T>): Promise<T> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  try {
    const page = await context.newPage();
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) await route.continue();
      else await route.abort();
    });
    await page.goto(`file://${path.resolve(htmlFile)}`, { waitUntil: 'load' });
    await page.waitForFunction('window.meshbenchChartsReady !== undefined', undefined, { timeout: 20_000 });
    await page.evaluate('window.meshbenchChartsReady');
    return await use(page);
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}
