#!/usr/bin/env node
// The citizen web chat in a real browser: starts its own redis-server and `nivaran serve` on free
// loopback ports, opens /webchat/ in headless Debian chromium with a phone viewport, and files a
// whole grievance by typing and pressing buttons, as a citizen would. It checks that option
// buttons work, that a reload keeps the conversation, that server text is shown literally (no
// HTML injection), that the page logs no console errors, and that a ticket reference appears.
//
//   node tests/browser/webchat.test.js          (npm ci --prefix tests/browser first)
//
// Environment: NIVARAN_BIN (default build/nivaran), REDIS_SERVER (default redis-server on PATH),
// CHROMIUM (default /usr/bin/chromium), WEBCHAT_SCREENSHOT (a .png path: the page once filed).
// Exits 0 on success, 1 with a message on any failure.
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const NIVARAN_BIN = path.resolve(ROOT, process.env.NIVARAN_BIN || 'build/nivaran');
const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TOTAL_TIMEOUT_MS = 120000;
const STEP_TIMEOUT_MS = 15000;
const TICKET_REF = /[A-Z]{3}-\d{2}-\d{6}/;

let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.error('webchat browser test: playwright-core is missing; run `npm ci --prefix tests/browser`');
  process.exit(1);
}

const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'dialogs/flows/grievance.json'), 'utf8'));

// ---- processes and clean-up ----

const children = [];
let tmpDir = null;
let browser = null;

function killAll() {
  for (const child of children) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch (e) { /* already gone */ }
  }
  if (tmpDir) {
    try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch (e) { /* best effort */ }
    tmpDir = null;
  }
}

process.on('exit', killAll); // playwright closes the browser it launched on exit as well
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`webchat browser test: interrupted by ${sig}`);
    process.exit(1);
  });
}
setTimeout(() => {
  console.error(`webchat browser test: FAILED — no result after ${TOTAL_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS).unref();

function start(name, bin, args) {
  const out = fs.openSync(path.join(tmpDir, `${name}.log`), 'w');
  // Its own process group, so that killing the group also ends anything it started.
  const child = spawn(bin, args, { stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  child.name = name;
  child.on('error', (e) => { child.spawnError = e; });
  children.push(child);
  return child;
}

function logTail(name) {
  try {
    return fs.readFileSync(path.join(tmpDir, `${name}.log`), 'utf8').split('\n').slice(-30).join('\n');
  } catch (e) {
    return '(no log)';
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls probe() until it returns true; fails early when the child died.
async function waitUntil(what, child, probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.spawnError) throw new Error(`${child.name} could not start: ${child.spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${child.name} exited (${child.exitCode ?? child.signalCode}) before ${what}:\n${logTail(child.name)}`);
    }
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}:\n${logTail(child.name)}`);
}

function redisPing(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.setTimeout(500, () => { sock.destroy(); resolve(false); });
    sock.on('error', () => resolve(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => { sock.destroy(); resolve(d.toString().startsWith('+PONG')); });
  });
}

// config/demo.json with our ports, the web chat on, and every relative path made absolute
// (nivaran resolves relative paths against the config file's folder, which is now a temp dir).
function testConfig(httpPort, redisPort) {
  const demoDir = path.join(ROOT, 'config');
  const config = JSON.parse(fs.readFileSync(path.join(demoDir, 'demo.json'), 'utf8'));
  const absolutize = (v) => {
    if (Array.isArray(v)) return v.map(absolutize);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, absolutize(x)]));
    }
    if (typeof v === 'string' && !v.includes('://') && !path.isAbsolute(v) &&
        fs.existsSync(path.resolve(demoDir, v))) {
      return path.resolve(demoDir, v);
    }
    return v;
  };
  const c = absolutize(config);
  c.http = { ...c.http, host: '127.0.0.1', port: httpPort };
  c.redis = { ...c.redis, host: '127.0.0.1', port: redisPort };
  c.platforms = { ...c.platforms, webchat: { enabled: true, static_dir: path.join(ROOT, 'web/webchat') } };
  return c;
}

// ---- the page ----

const hi = (node) => flow.nodes[node].text.hi;
// The fixed part of a question, before any {placeholder}, to recognise it in the bot's reply.
const question = (node) => hi(node).split('{')[0].trim();

function lastBotText(page) {
  return page.evaluate(() => {
    const bots = document.querySelectorAll('#messages .msg.bot');
    return bots.length ? bots[bots.length - 1].textContent : '(no bot message yet)';
  });
}

// Waits until the newest bot message contains `fragment` (and, when given, offers option `optionId`).
async function expectBot(page, fragment, optionId) {
  try {
    await page.waitForFunction(([frag, opt]) => {
      const items = document.querySelectorAll('#messages .msg');
      const last = items[items.length - 1];
      if (!last || !last.classList.contains('bot') || !last.textContent.includes(frag)) return false;
      return !opt || !!last.querySelector(`button.option[data-option="${opt}"]:not([disabled])`);
    }, [fragment, optionId], { timeout: STEP_TIMEOUT_MS });
  } catch (e) {
    throw new Error(`expected the bot to say "${fragment}"${optionId ? ` with option ${optionId}` : ''}, ` +
      `but its last message is:\n${await lastBotText(page)}`);
  }
}

async function type(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
  await expectMine(page, text);
}

async function press(page, optionId) {
  const button = page.locator(`#messages .msg.bot:last-child button.option[data-option="${optionId}"]`);
  const title = (await button.textContent()).trim();
  await button.click();
  await expectMine(page, title);
  return title;
}

// The citizen's newest bubble shows `text` and has been delivered (no pending/failed mark).
async function expectMine(page, text) {
  try {
    await page.waitForFunction((t) => {
      const mine = document.querySelectorAll('#messages .msg.me');
      const last = mine[mine.length - 1];
      return !!last && last.querySelector('.bubble').textContent.endsWith(t) && !last.querySelector('.meta');
    }, text, { timeout: STEP_TIMEOUT_MS });
  } catch (e) {
    const got = await page.evaluate(() => {
      const mine = document.querySelectorAll('#messages .msg.me');
      return mine.length ? mine[mine.length - 1].textContent : '(none)';
    });
    throw new Error(`expected my message "${text}" to be shown and sent; my last bubble: ${got}`);
  }
}

async function fileGrievance(page, baseUrl, consoleErrors) {
  const xss = 'कल शाम बाज़ार से मेरी बाइक चोरी हो गई <script>window.__xss = 1</script> <img src=x onerror="window.__xss = 2">';

  await page.goto(`${baseUrl}/webchat/`);
  assert.equal(await page.title(), 'निवारण — पुलिस शिकायत सहायता');
  assert.equal(await page.getAttribute('html', 'lang'), 'hi');
  const emergency = page.locator('a[href="tel:112"]');
  assert.ok((await emergency.textContent()).includes('112'), 'the header has a tel:112 link');
  assert.ok(await page.locator('#welcome').isVisible(), 'a new visitor sees the welcome text');
  assert.ok((await page.textContent('#welcome')).includes('नमस्ते'), 'the welcome says how to begin');
  assert.equal(await page.locator('#messages .msg').count(), 0, 'nothing is sent automatically');

  await type(page, 'नमस्ते');
  await expectBot(page, question('category'), 'cat:theft');
  assert.ok(!(await page.locator('#welcome').isVisible()), 'the welcome gives way to the conversation');

  const category = await press(page, 'cat:theft');
  assert.equal(category, 'चोरी / लूट');
  assert.equal(await page.locator('button.option[data-option="cat:theft"]').getAttribute('class'),
    'option chosen', 'the pressed option is marked');
  assert.equal(await page.locator('#messages button.option[data-option^="cat:"]:not([disabled])').count(), 0,
    'after a press, that message\'s options are inactive');
  await expectBot(page, question('district'), 'dist:bareilly');

  await type(page, 'बरेली');
  // Bareilly has more police stations than a list holds: only "पता नहीं" is a button, names are typed.
  await expectBot(page, question('police_station'), 'ps:unknown');
  await type(page, 'प्रेमनगर');

  await expectBot(page, question('place'));
  await type(page, 'स्टेशन रोड, सुभाष नगर');
  await expectBot(page, question('incident_time'));
  await type(page, 'कल शाम 7 बजे');
  await expectBot(page, question('description'));

  await type(page, xss);
  const literal = await page.evaluate(() => {
    const mine = document.querySelectorAll('#messages .msg.me');
    return mine[mine.length - 1].querySelector('.bubble').textContent;
  });
  assert.ok(literal.includes('<script>window.__xss = 1</script>'), 'markup is shown as text');
  await expectBot(page, question('name'));

  await type(page, 'राम कुमार');
  await expectBot(page, question('mobile'));
  await type(page, '9876543210');
  await expectBot(page, question('consent'), 'yes');
  await press(page, 'yes');
  await expectBot(page, question('confirm'), 'yes');
  assert.ok((await lastBotText(page)).includes('<script>window.__xss = 1</script>'),
    'the summary echoes the description literally');

  // A reload continues the same conversation, with the summary's buttons still usable.
  const before = await page.locator('#messages .msg').allTextContents();
  await page.reload();
  await expectBot(page, question('confirm'), 'yes');
  assert.deepEqual(await page.locator('#messages .msg').allTextContents(), before,
    'after a reload the conversation is the same');
  assert.ok(!(await page.locator('#welcome').isVisible()), 'no welcome after a reload');

  await press(page, 'yes');
  try {
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('#messages').innerText),
      TICKET_REF.source, { timeout: STEP_TIMEOUT_MS });
  } catch (e) {
    throw new Error(`no ticket reference appeared; the bot's last message is:\n${await lastBotText(page)}`);
  }
  const ref = (await lastBotText(page)).match(TICKET_REF);
  assert.ok(ref, 'the ticket reference is in the newest bot message');
  assert.ok(await page.locator(`#messages .msg.bot:last-child >> text=${ref[0]}`).first().isVisible(),
    'the ticket reference is visible');

  if (process.env.WEBCHAT_SCREENSHOT) await page.screenshot({ path: process.env.WEBCHAT_SCREENSHOT });

  // No markup from any message became live HTML.
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'no injected script ran');
  assert.equal(await page.locator('#messages script, #messages img').count(), 0, 'no injected elements');

  // The page fits the narrowest phones without sideways scrolling.
  await page.setViewportSize({ width: 320, height: 640 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `at 320 px the page scrolls sideways by ${overflow} px`);

  assert.deepEqual(consoleErrors, [], 'the page logged no console errors');
  return ref[0];
}

async function main() {
  if (!fs.existsSync(NIVARAN_BIN)) throw new Error(`no nivaran binary at ${NIVARAN_BIN} (set NIVARAN_BIN)`);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nivaran-webchat-'));
  const redisPort = await freePort();
  const httpPort = await freePort();

  const redis = start('redis', REDIS_SERVER, ['--port', String(redisPort), '--save', '', '--appendonly', 'no',
    '--bind', '127.0.0.1', '--dir', tmpDir]);
  await waitUntil('redis answers PING', redis, () => redisPing(redisPort), 10000);

  const configPath = path.join(tmpDir, 'config.json');
  fs.writeFileSync(configPath, JSON.stringify(testConfig(httpPort, redisPort), null, 2));
  const bot = start('nivaran', NIVARAN_BIN, ['serve', '--config', configPath]);
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  await waitUntil('GET /healthz = 200', bot,
    async () => (await fetch(`${baseUrl}/healthz`)).status === 200, 20000);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: process.getuid() !== 0, // chromium refuses its sandbox as root
  });
  const context = await browser.newContext({
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'hi-IN',
  });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  try {
    const ref = await fileGrievance(page, baseUrl, consoleErrors);
    console.log(`webchat browser test: filed ${ref} through the page`);
  } catch (e) {
    const shot = path.join(os.tmpdir(), `nivaran-webchat-failure-${process.pid}.png`);
    await page.screenshot({ path: shot, fullPage: true }).then(
      () => console.error(`screenshot of the page: ${shot}`), () => {});
    console.error(`nivaran log:\n${logTail('nivaran')}`);
    throw e;
  }
}

main()
  .then(async () => {
    await browser.close();
    killAll();
    console.log('webchat browser test: passed');
    process.exit(0);
  })
  .catch(async (e) => {
    console.error(`webchat browser test: FAILED — ${e && e.stack ? e.stack : e}`);
    if (browser) await browser.close().catch(() => {});
    killAll();
    process.exit(1);
  });
