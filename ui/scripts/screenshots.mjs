// Real-browser check of the built popover (ui/dist) with a mocked engine behind Tauri IPC:
// serves dist with a strict CSP, drives Debian's Chromium through playwright-core, asserts the
// page works, and writes docs/screenshots/popover-{light,dark}.png. Exits non-zero on failure.
import { createServer } from 'node:http';
import { readFile, mkdir, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const ui = resolve(here, '..');
const dist = join(ui, 'dist');
const shots = resolve(ui, '..', 'docs', 'screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TIMEOUT = 15_000;
// The sample scenario runs at a fixed wall-clock time, so "up 2h 14m" and the screenshots
// are the same on every run (no churn in git).
const FIXED_NOW = new Date('2025-06-02T10:00:00Z');

// What the Tauri window should enforce too: no inline script or style, nothing remote.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

function fail(message) {
  throw new Error(message);
}

function check(condition, message) {
  if (!condition) fail(message);
}

async function serve() {
  const server = createServer(async (req, res) => {
    try {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
      const file = join(dist, path);
      if (!file.startsWith(dist)) throw new Error('outside dist');
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-security-policy': CSP,
        'cache-control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return server;
}

async function mockScript() {
  const out = await build({
    entryPoints: [join(ui, 'tests', 'browser', 'mock-entry.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  });
  return out.outputFiles[0].text;
}

/** A page with the mock engine installed, watching for errors and CSP violations. */
async function openPage(browser, base, mock, { scheme, scenario }) {
  const context = await browser.newContext({
    viewport: { width: 380, height: 520 },
    deviceScaleFactor: 2,
    colorScheme: scheme,
    reducedMotion: 'reduce',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  page.on('request', (req) => {
    if (!req.url().startsWith(base)) problems.push(`remote request: ${req.url()}`);
  });
  if (scenario === 'sample') await page.clock.setFixedTime(FIXED_NOW);
  await page.addInitScript(`window.__SZ_SCENARIO__ = ${JSON.stringify(scenario)};`);
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
  );
  await page.addInitScript(mock);
  await page.goto(`${base}/popover.html`);
  return { context, page, problems };
}

const rowsOf = (page) =>
  page.$$eval('[data-testid="job-row"]', (rows) => rows.map((r) => ({ name: r.dataset.job, state: r.dataset.state })));

async function checkSample(page, scheme) {
  await page.waitForSelector('[data-testid="job-row"]');
  const rows = await rowsOf(page);
  check(rows.length === 11, `expected 11 rows, got ${rows.length}`);
  check(rows[0].name === 'queue-consumer' && rows[0].state === 'failed', `a failed job must come first, got ${JSON.stringify(rows[0])}`);
  const states = new Set(rows.map((r) => r.state));
  for (const s of ['stopped', 'starting', 'running', 'stopping', 'backoff', 'failed', 'exited']) {
    check(states.has(s), `no row in state ${s}`);
  }
  const overall = await page.textContent('[data-testid="overall"]');
  check(overall === 'Needs attention', `header says ${overall}`);
  const failing = await page.textContent('[data-testid="total-failing"]');
  check(failing === '3', `failing total says ${failing}`);
  const total = await page.textContent('[data-testid="total-jobs"]');
  check(total === '11', `total says ${total}`);
  const sparks = await page.$$eval('svg.spark polyline', (els) => els.length);
  check(sparks >= 8, `expected sparklines, got ${sparks}`);
  const badges = await page.$$eval('[data-testid="health"]', (els) => els.map((e) => e.textContent));
  check(badges.includes('unhealthy') && badges.includes('healthy'), `health badges: ${badges}`);
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const dark = bg === 'rgb(37, 37, 39)';
  check(dark === (scheme === 'dark'), `body background ${bg} does not match the ${scheme} scheme`);
  const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
  check(font.includes('system-ui'), `font-family is ${font}`);
}

async function checkInteractions(page) {
  const calls = () => page.evaluate(() => window.__szMock.calls.map((c) => ({ cmd: c.cmd, args: JSON.parse(JSON.stringify(c.args ?? {})) })));
  // Keyboard: select the first row, restart it; it fails inline (the mock cannot start it).
  await page.keyboard.press('ArrowDown');
  await page.waitForSelector('[data-job="queue-consumer"][aria-current="true"]');
  await page.keyboard.press('r');
  await page.waitForSelector('[data-job="queue-consumer"][aria-busy="true"]');
  await page.waitForSelector('[data-job="queue-consumer"] [role="alert"]');
  const error = await page.textContent('[data-job="queue-consumer"] [role="alert"]');
  check(error.includes('program not found'), `inline error says ${error}`);
  // Mouse: start a stopped job; the reply and the event turn it running.
  await page.click('[data-job="report"] button[aria-label="Start report"]');
  await page.waitForSelector('[data-job="report"][data-state="running"]');
  // Lost events: the page reloads the snapshot.
  const before = (await calls()).filter((c) => c.cmd === 'snapshot').length;
  await page.evaluate(() => window.__szMock.emit({ type: 'missed', count: 3 }));
  await page.waitForFunction((n) => window.__szMock.calls.filter((c) => c.cmd === 'snapshot').length > n, before);
  // L opens the logs of the selected job; Escape hides the popover.
  await page.keyboard.press('l');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => window.__szMock.calls.some((c) => c.cmd === 'hide_popover'));
  const all = await calls();
  const settings = all.find((c) => c.cmd === 'open_settings');
  check(settings && settings.args.job === 'queue-consumer' && settings.args.page === 'logs', `open_settings: ${JSON.stringify(settings)}`);
  check(all.filter((c) => c.cmd === 'subscribe').length === 1, 'subscribed more than once');
}

async function checkMany(page) {
  await page.waitForSelector('[data-testid="job-row"]');
  const total = await page.textContent('[data-testid="total-jobs"]');
  check(total === '1000', `total says ${total}`);
  const rendered = (await rowsOf(page)).length;
  check(rendered > 5 && rendered < 40, `1,000 jobs should render a window of rows, got ${rendered}`);
  // Scroll to the end: the last job appears, the DOM stays small, and it takes a frame or two.
  const started = Date.now();
  await page.$eval('[role="list"]', (el) => {
    el.scrollTop = el.scrollHeight;
  });
  await page.waitForSelector('[data-job="job-0999"]');
  const scrollMs = Date.now() - started;
  const after = (await rowsOf(page)).length;
  check(after < 40, `after scrolling ${after} rows are rendered`);
  // A burst of samples for every job is applied in one go.
  const applied = await page.evaluate(async () => {
    const samples = [];
    const at = new Date().toISOString();
    for (let i = 0; i < 1000; i++) {
      samples.push({ job: `job-${String(i).padStart(4, '0')}`, at, cpu_percent: 12.5, memory_bytes: 50_000_000, processes: 1, disk_read_bytes: 0, disk_written_bytes: 0, cpu_seconds: 1 });
    }
    const t0 = performance.now();
    window.__szMock.push({ type: 'resources_sampled', samples });
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t0;
  });
  await page.waitForSelector('[data-job="job-0999"] [data-testid="cpu"]');
  return { rendered, scrollMs, sampleMs: Math.round(applied) };
}

async function main() {
  await stat(join(dist, 'popover.html')).catch(() => fail('ui/dist/popover.html is missing: run `npm run build` first'));
  await stat(CHROMIUM).catch(() => fail(`${CHROMIUM} is missing: install Debian's chromium (scripts/ui.sh does)`));
  await mkdir(shots, { recursive: true });
  const mock = await mockScript();
  const server = await serve();
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const results = [];
  try {
    for (const scheme of ['light', 'dark']) {
      const { context, page, problems } = await openPage(browser, base, mock, { scheme, scenario: 'sample' });
      await checkSample(page, scheme);
      const file = join(shots, `popover-${scheme}.png`);
      await page.screenshot({ path: file, animations: 'disabled' });
      if (scheme === 'light') await checkInteractions(page);
      check(problems.length === 0, `${scheme}: ${problems.join('\n')}`);
      results.push(`${scheme}: ok, ${file}`);
      await context.close();
    }
    {
      const { context, page, problems } = await openPage(browser, base, mock, { scheme: 'light', scenario: 'empty' });
      await page.waitForSelector('[data-testid="empty"]');
      await page.click('text=Add a job…');
      await page.waitForFunction(() => window.__szMock.calls.some((c) => c.cmd === 'open_settings' && c.args.page === 'new'));
      check(problems.length === 0, `empty: ${problems.join('\n')}`);
      results.push('empty state: ok');
      await context.close();
    }
    {
      const { context, page, problems } = await openPage(browser, base, mock, { scheme: 'light', scenario: 'many' });
      const perf = await checkMany(page);
      check(problems.length === 0, `many: ${problems.join('\n')}`);
      results.push(`1,000 jobs: ok, ${perf.rendered} rows in the DOM, scroll to end ${perf.scrollMs} ms, 1,000 samples applied and painted in ${perf.sampleMs} ms`);
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  for (const line of results) console.log(`screenshots: ${line}`);
}

main().catch((err) => {
  console.error(`screenshots: FAILED: ${err.stack ?? err}`);
  process.exit(1);
});
