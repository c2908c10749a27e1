// Real-browser check of the built popover (ui/dist) with a mocked engine behind Tauri IPC:
// serves dist with a strict CSP, drives Debian's Chromium through playwright-core, asserts the
// pages work, and writes docs/screenshots/popover-{light,dark}.png and
// settings-{editor,editor-env,editor-deps,editor-watch,logs,runs,app}-{light,dark}.png. Exits
// non-zero on failure.
import { createServer } from 'node:http';
import { readFile, mkdir, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const ui = resolve(here, '..');
const dist = join(ui, 'dist');
// Tests never change tracked files: the pictures in docs/screenshots are rewritten only when
// asked (UPDATE_SCREENSHOTS=1); otherwise they go to a scratch directory beside the build.
const shots =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? resolve(ui, '..', 'docs', 'screenshots')
    : resolve(ui, '..', 'target', 'screenshots');
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
async function openPage(browser, base, mock, { scheme, scenario, path = '/popover.html', viewport = { width: 380, height: 520 } }) {
  const context = await browser.newContext({
    viewport,
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
  if (scenario === 'sample' || scenario === 'engines') await page.clock.setFixedTime(FIXED_NOW);
  await page.addInitScript(`window.__SZ_SCENARIO__ = ${JSON.stringify(scenario)};`);
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
  );
  await page.addInitScript(mock);
  await page.goto(`${base}${path}`);
  return { context, page, problems };
}

const rowsOf = (page) =>
  page.$$eval('[data-testid="job-row"]', (rows) => rows.map((r) => ({ name: r.dataset.job, state: r.dataset.state })));

async function checkSample(page, scheme) {
  await page.waitForSelector('[data-testid="job-row"]');
  const rows = await rowsOf(page);
  check(rows.length === 12, `expected 12 rows, got ${rows.length}`);
  check(rows[0].name === 'queue-consumer' && rows[0].state === 'failed', `a failed job must come first, got ${JSON.stringify(rows[0])}`);
  const states = new Set(rows.map((r) => r.state));
  for (const s of ['stopped', 'starting', 'running', 'stopping', 'backoff', 'failed', 'exited', 'waiting']) {
    check(states.has(s), `no row in state ${s}`);
  }
  const overall = await page.textContent('[data-testid="overall"]');
  check(overall === 'Needs attention', `header says ${overall}`);
  const failing = await page.textContent('[data-testid="total-failing"]');
  check(failing === '3', `failing total says ${failing}`);
  const total = await page.textContent('[data-testid="total-jobs"]');
  check(total === '12', `total says ${total}`);
  // The waiting job: a hollow dot, its port conflict, and the button that frees the port.
  const docs = '[data-job="docs"]';
  check(rows[1].name === 'docs' && rows[1].state === 'waiting', `the waiting job must come second, got ${JSON.stringify(rows[1])}`);
  const detail = await page.textContent(`${docs} [data-testid="detail"]`);
  check(detail.startsWith('port 8000 is in use by pid 3121'), `waiting detail says ${detail}`);
  const ring = await page.$eval(`${docs} [data-testid="state-dot"]`, (el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).boxShadow]);
  check(ring[0] === 'rgba(0, 0, 0, 0)' && ring[1].includes('inset'), `waiting dot is ${ring.join(' / ')}`);
  check(await page.isVisible(`${docs} button:has-text("Stop leftover")`), 'no Stop leftover button on the waiting job');
  // ollama's log file cannot be written: a marker with the OS's words, and it still runs.
  const logError = await page.getAttribute('[data-job="ollama"] [data-testid="log-error"]', 'title');
  check(logError?.includes('No space left on device'), `ollama's log marker says ${logError}`);
  check(rows.find((r) => r.name === 'ollama')?.state === 'running', 'ollama is not running');
  check((await page.$$('[data-testid="log-error"]')).length === 1, 'more than one log marker');
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
  // Stop leftover: pending, then what it stopped; the job starts once its port is free.
  await page.click('[data-job="docs"] button:has-text("Stop leftover")');
  await page.waitForSelector('[data-job="docs"] button:has-text("Stopping…")');
  await page.waitForSelector('[data-job="docs"] [data-testid="notice"]:has-text("stopped pid 3121")');
  await page.waitForSelector('[data-job="docs"][data-state="running"]');
  check((await calls()).some((c) => c.cmd === 'free_ports' && c.args.name === 'docs'), 'free_ports was not asked for docs');
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

// The settings window: every page in both schemes, with checks that fail when a page is broken.
const SETTINGS_VIEWPORT = { width: 900, height: 620 };
const SETTINGS_PAGES = {
  editor: '#job=api&page=editor',
  // Scrolled to the environment (with the resolved one open), the dependencies, the file watch.
  'editor-env': '#job=api&page=editor',
  'editor-deps': '#job=api&page=editor',
  'editor-watch': '#job=api&page=editor',
  logs: '#job=api&page=logs',
  runs: '#job=api&page=runs',
  app: '#page=app',
};

async function checkSettingsPage(page, name, scheme) {
  await page.waitForSelector('[data-testid="sidebar-job"]');
  const jobs = await page.$$eval('[data-testid="sidebar-job"]', (els) => els.length);
  check(jobs === 12, `${name}: sidebar lists ${jobs} jobs`);
  const waiting = await page.$eval('[data-testid="sidebar-job"][data-job="docs"] [data-testid="state-dot"]', (el) => el.title);
  check(waiting.startsWith('waiting: port 8000'), `${name}: the waiting job's dot says ${waiting}`);
  const theme = await page.evaluate(() => document.documentElement.dataset.theme);
  check(theme === scheme, `${name}: data-theme is ${theme} in the ${scheme} scheme`);
  const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
  check(font.includes('system-ui'), `${name}: font-family is ${font}`);
  switch (name) {
    case 'editor': {
      await page.waitForSelector('[data-testid="editor"]');
      const value = await page.inputValue('#f-name');
      check(value === 'api', `editor: name field says ${value}`);
      const argv = await page.$$eval('[data-testid="argv"] code', (els) => els.map((e) => e.textContent));
      check(JSON.stringify(argv) === JSON.stringify(['node', 'server.js', '--port', '8080']), `editor: argv ${JSON.stringify(argv)}`);
      const delays = await page.textContent('[data-testid="delay-preview"]');
      check(delays.includes('gives up after 5 failures'), `editor: delay preview says ${delays}`);
      await page.waitForSelector('[data-testid="schedule-description"]');
      const next = await page.$$eval('[data-testid="schedule-next"]', (els) => els.length);
      check(next === 5, `editor: ${next} next fire times`);
      const masked = await page.getAttribute('[aria-label="Value of API_TOKEN"]', 'type');
      check(masked === 'password', `editor: secret value input is ${masked}`);
      break;
    }
    case 'editor-env': {
      await page.waitForSelector('[data-testid="editor"]');
      await page.click('[data-testid="resolved-env"] summary');
      await page.waitForSelector('[data-testid="resolved-var"][data-key="LOG_LEVEL"]');
      const cells = (key) => page.$$eval(`[data-testid="resolved-var"][data-key="${key}"] td`, (els) => els.map((e) => e.textContent));
      const level = await cells('LOG_LEVEL');
      check(level[1] === 'debug' && level[2] === '.env.local' && level[3] === '.env', `editor: LOG_LEVEL resolves to ${JSON.stringify(level)}`);
      const token = await cells('API_TOKEN');
      check(token[1] === '••••••••' && token[2] === 'env', `editor: API_TOKEN resolves to ${JSON.stringify(token)}`);
      await page.$eval('[data-testid="env-table"]', (el) => el.scrollIntoView({ block: 'start' }));
      break;
    }
    case 'editor-deps': {
      await page.waitForSelector('[data-testid="section-dependencies"]');
      const deps = await page.$$eval('[data-testid="dependency-row"] select', (els) => els.map((e) => e.value));
      check(JSON.stringify(deps) === JSON.stringify(['db-tunnel', 'started', 'redis', 'healthy']), `editor: dependencies ${JSON.stringify(deps)}`);
      check((await page.inputValue('#f-ports')) === '8080', 'editor: ports');
      await page.$eval('[data-testid="section-dependencies"]', (el) => el.scrollIntoView({ block: 'start' }));
      break;
    }
    case 'editor-watch': {
      await page.waitForSelector('[data-testid="section-watch"]');
      check(await page.isChecked('[data-testid="watch-enabled"]'), 'editor: the watch is off');
      check((await page.inputValue('[aria-label="Watched path 1"]')) === 'src', 'editor: watched path');
      check((await page.inputValue('#f-debounce')) === '500ms', 'editor: debounce');
      check((await page.inputValue('#f-nice')) === '5', 'editor: nice');
      check((await page.inputValue('#f-nofile')) === '4096', 'editor: open files');
      await page.$eval('[data-testid="section-watch"]', (el) => el.scrollIntoView({ block: 'start' }));
      break;
    }
    case 'logs': {
      await page.waitForSelector('[data-testid="log-line"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="log-count"]')?.textContent === '300 lines');
      const rendered = await page.$$eval('[data-testid="log-line"]', (els) => els.length);
      check(rendered > 10 && rendered < 100, `logs: ${rendered} lines rendered`);
      const coloured = await page.$$eval('[data-testid="log-line"] .fg2', (els) => els.length);
      check(coloured > 0, 'logs: no ANSI-coloured text');
      const red = await page.$eval('[data-testid="log-line"][data-stream="stderr"]', (el) => getComputedStyle(el).color);
      const [r, g] = red.match(/\d+/g).map(Number);
      check(r > 150 && g < 140, `logs: stderr colour ${red}`);
      break;
    }
    case 'runs': {
      await page.waitForSelector('[data-testid="run-row"]');
      const rows = await page.$$eval('[data-testid="run-row"]', (els) => els.length);
      check(rows === 13, `runs: ${rows} rows`);
      break;
    }
    case 'app': {
      await page.waitForSelector('[data-testid="launch-at-login"]');
      check(await page.isChecked('[data-testid="launch-at-login"]'), 'app: launch at login is not checked');
      const token = await page.textContent('[data-testid="metrics-token"]');
      check(token === '••••••••', `app: token shows ${token}`);
      // Unset in the sample settings: kept by count only.
      check((await page.inputValue('#s-maxage')) === '', 'app: log retention is set');
      break;
    }
  }
}

async function checkSettingsInteractions(page) {
  // Live validation: the (toy) engine validator's message shows under the field; save waits.
  await page.fill('#f-delay', '5 hours');
  await page.waitForSelector('[data-field="restart.delay"]');
  check(await page.isDisabled('[data-testid="save"]'), 'editor: save is enabled with an invalid delay');
  await page.fill('#f-delay', '2s');
  await page.waitForSelector('[data-field="restart.delay"]', { state: 'detached' });
  // Unsaved edits: leaving asks; Keep editing stays and puts back the address the link changed.
  await page.click('[data-testid="tab-runs"]');
  await page.waitForSelector('[role="alertdialog"]:has-text("Discard unsaved changes to api?")');
  await page.click('[role="alertdialog"] button:has-text("Keep editing")');
  await page.waitForSelector('[role="alertdialog"]', { state: 'detached' });
  check(page.url().endsWith('#job=api&page=editor'), `guard: Keep editing left the url at ${page.url()}`);
  check((await page.inputValue('#f-delay')) === '2s', 'guard: Keep editing lost the edit');
  await page.click('[data-testid="save"]');
  await page.waitForSelector('[data-testid="toast"]:has-text("Saved")');
  // Saved: leaving no longer asks.
  await page.click('[data-testid="tab-runs"]');
  await page.waitForSelector('[data-testid="run-row"]');
  check((await page.$('[role="alertdialog"]')) === null, 'guard: a saved editor asks before leaving');
  // A run opens the logs at its start.
  await page.click('[data-testid="run-row"]:nth-child(4)');
  await page.waitForSelector('[data-testid="log-line"].target');
  check(page.url().includes('page=logs') && page.url().includes('at='), `runs: url ${page.url()}`);
  // 100,000 lines: a window of them in the DOM, and scrolling to the end is quick.
  const started = Date.now();
  await page.evaluate(() => {
    const now = Date.now();
    for (let i = 0; i < 99_700; i++) {
      window.__szSettings.emitLog('api', { ts: new Date(now + i).toISOString(), stream: i % 9 ? 'stdout' : 'stderr', text: `\x1b[36mline\x1b[0m ${i}` });
    }
  });
  await page.waitForFunction(() => document.querySelector('[data-testid="log-count"]')?.textContent === '100,000 lines');
  const loadMs = Date.now() - started;
  await page.$eval('[role="list"]', (el) => {
    el.scrollTop = el.scrollHeight;
  });
  await page.waitForSelector('[data-testid="log-line"]:has-text("line 99699")');
  const rendered = await page.$$eval('[data-testid="log-line"]', (els) => els.length);
  check(rendered < 100, `logs: ${rendered} of 100,000 lines rendered`);
  // At the end the log follows again; scrolling up stops following.
  await page.waitForSelector('[data-testid="log-follow"][aria-pressed="true"]');
  await page.$eval('[role="list"]', (el) => {
    el.scrollTop = 0;
  });
  await page.waitForSelector('[data-testid="log-follow"][aria-pressed="false"]');
  // Search with the filter on.
  await page.fill('[data-testid="log-search"]', 'line 9969');
  await page.click('[data-testid="log-only-matches"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="log-count"]')?.textContent === '11 matches · 11 lines');
  return { loadMs, rendered };
}

async function main() {
  for (const html of ['popover.html', 'settings.html']) {
    await stat(join(dist, html)).catch(() => fail(`ui/dist/${html} is missing: run \`npm run build\` first`));
  }
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
    for (const scheme of ['light', 'dark']) {
      for (const [name, hash] of Object.entries(SETTINGS_PAGES)) {
        const { context, page, problems } = await openPage(browser, base, mock, {
          scheme,
          scenario: 'sample',
          path: `/settings.html${hash}`,
          viewport: SETTINGS_VIEWPORT,
        });
        await checkSettingsPage(page, name, scheme);
        const file = join(shots, `settings-${name}-${scheme}.png`);
        await page.screenshot({ path: file, animations: 'disabled' });
        let extra = '';
        if (scheme === 'light' && name === 'editor') {
          const perf = await checkSettingsInteractions(page);
          extra = `, editor/runs/logs interactions ok, 100,000 log lines in ${perf.loadMs} ms with ${perf.rendered} in the DOM`;
        }
        check(problems.length === 0, `settings ${name} ${scheme}: ${problems.join('\n')}`);
        results.push(`settings ${name} ${scheme}: ok, ${file}${extra}`);
        await context.close();
      }
    }
    for (const scheme of ['light', 'dark']) {
      // Remote engines: a section each, this Mac first; one out of reach says why.
      const { context, page, problems } = await openPage(browser, base, mock, { scheme, scenario: 'engines' });
      await page.waitForSelector('[data-testid="engine-header"][data-engine="vps"]');
      const sections = await page.$$eval('[data-testid="engine-header"]', (els) => els.map((e) => `${e.dataset.engine}:${e.dataset.link}`));
      check(JSON.stringify(sections) === JSON.stringify([':local', 'build-box:connected', 'vps:unreachable']), `engines: sections ${JSON.stringify(sections)}`);
      const problem = await page.textContent('[data-engine="vps"] [data-testid="engine-problem"]');
      check(problem.includes('Connection refused'), `engines: vps says ${problem}`);
      const file = join(shots, `popover-engines-${scheme}.png`);
      await page.screenshot({ path: file, animations: 'disabled' });
      check(problems.length === 0, `engines ${scheme}: ${problems.join('\n')}`);
      results.push(`engines ${scheme}: ok, ${file}`);
      await context.close();

      const settings = await openPage(browser, base, mock, { scheme, scenario: 'engines', path: '/settings.html#page=engines', viewport: SETTINGS_VIEWPORT });
      await settings.page.waitForSelector('[data-testid="engine"][data-engine="vps"]');
      const rows = await settings.page.$$eval('[data-testid="engine"]', (els) => els.length);
      check(rows === 3, `settings engines: ${rows} engines listed`);
      const settingsFile = join(shots, `settings-engines-${scheme}.png`);
      await settings.page.screenshot({ path: settingsFile, animations: 'disabled' });
      check(settings.problems.length === 0, `settings engines ${scheme}: ${settings.problems.join('\n')}`);
      results.push(`settings engines ${scheme}: ok, ${settingsFile}`);
      await settings.context.close();
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
