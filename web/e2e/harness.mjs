// harness.mjs is what the browser tests share: arguments, the catalogs the pages are rendered
// from, a WeChat-like phone, checks that wait and explain themselves, screenshots per step, the
// one-time codes from the local outbox, and the closing summary line the test runner reads.
//
//	const h = await open('join'); … await h.flow(async () => { … await h.step(page, 'x', fn) … });
//	await h.finish();
//
// open's second argument may carry more chromium flags ({args: [...]}), e.g. a fake microphone.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

// A phone inside WeChat: where most seniors open the link.
export const WECHAT_UA = 'Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 ' +
  '(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 ' +
  'MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64';

export async function open(script, { args = [] } = {}) {
  const name = script;


  const here = path.dirname(fileURLToPath(import.meta.url));

  const { values: opt } = parseArgs({
    options: {
      base: { type: 'string' },
      token: { type: 'string' },
      'join-code': { type: 'string' },
      out: { type: 'string' },
      chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
    },
  });
  if (!opt.base || !opt.token || !opt['join-code'] || !opt.out) {
    console.error(`usage: node ${name}.mjs --base http://127.0.0.1:PORT --token JWT --join-code CODE --out DIR`);
    process.exit(2);
  }
  const base = opt.base.replace(/\/+$/, '');
  const joinCode = opt['join-code'];

  // The pages' wording comes from the same catalogs the server renders, so a reworded message does
  // not break this script while a message that is missing or in the wrong language does.
  const catalog = {};
  for (const lang of ['zh-CN', 'en']) {
    catalog[lang] = JSON.parse(await readFile(path.join(here, '..', '..', 'shared', 'i18n', 'catalog', lang + '.json'), 'utf8'));
  }
  const T = (lang, key, vars = {}) => {
    let s = catalog[lang][key];
    if (s === undefined) { throw new Error(`catalog ${lang} has no ${key}`); }
    for (const [k, v] of Object.entries(vars)) { s = s.split(`{${k}}`).join(v); }
    return s;
  };

  // The seeded store and group (cmd/local/seed.go).
  const SEEDED_STORE = '幸福里社区药房';
  const SEEDED_GROUP = '幸福里邻里健康群';
  const SEEDED_COVENANT = '互相尊重';

  const TIMEOUT = 10_000; // per wait; the whole run takes a few seconds

  class Failed extends Error {}
  function expect(cond, what) {
    if (!cond) { throw new Failed(what); }
  }
  const reEscape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  // text waits until the element's trimmed text satisfies want (a string or a RegExp), then returns
  // it; on timeout it fails with what the element did say.
  async function text(locator, want, what) {
    const ok = (s) => (want instanceof RegExp ? want.test(s) : s === want);
    const deadline = Date.now() + TIMEOUT;
    let got = '';
    for (;;) {
      try {
        await locator.first().waitFor({ state: 'visible', timeout: Math.max(1, deadline - Date.now()) });
        got = (await locator.first().innerText()).trim();
      } catch (e) {
        throw new Failed(`${what}: not visible within ${TIMEOUT} ms (${e.message.split('\n')[0]})`);
      }
      if (ok(got)) { return got; }
      if (Date.now() > deadline) {
        throw new Failed(`${what}: got ${JSON.stringify(got)}, want ${want instanceof RegExp ? want : JSON.stringify(want)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // outboxCode waits for a one-time code texted to memberId that is not one of seen (message ids),
  // as the senior's phone would receive it, and returns {id, code}.
  async function outboxCode(memberId, seen = new Set()) {
    const deadline = Date.now() + TIMEOUT;
    let last = '';
    while (Date.now() < deadline) {
      const res = await fetch(base + '/api/admin/outbox?limit=50', { headers: { Authorization: 'Bearer ' + opt.token } });
      last = `status ${res.status}`;
      if (res.status === 200) {
        const { items = [] } = await res.json();
        const msg = items.find((it) => it.memberId === memberId && it.kind === 'otp' && !seen.has(it.messageId));
        const m = msg && /\d{6}/.exec(msg.text || '');
        if (m) { return { id: msg.messageId, code: m[0] }; }
        last = `${items.length} messages, none a new code for ${memberId}`;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Failed(`no code in the outbox within ${TIMEOUT} ms (${last})`);
  }

  await mkdir(opt.out, { recursive: true });
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: opt.chromium,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--no-first-run', '--disable-sync', ...args],
      timeout: 30_000,
    });
  } catch (e) {
    console.log(`FAIL launch ${opt.chromium}: ${e.message}`);
    console.log(`${name} e2e: 0 passed, 1 failed`);
    process.exit(1);
  }

  let passed = 0;
  let failed = 0;
  let shot = 0;
  const pageErrors = [];

  // newPage opens a fresh phone (its own cookies) in lang's locale.
  async function newPage(lang, more = {}) {
    const ctx = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      userAgent: WECHAT_UA,
      locale: lang,
      timezoneId: 'Asia/Shanghai',
      ...more,
    });
    ctx.setDefaultTimeout(TIMEOUT);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${lang} ${page.url()}: ${e.message}`));
    page.on('console', (m) => {
      // A refused request (400, 401, 404) is logged by the browser itself; that is the page working.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
        pageErrors.push(`${lang} ${page.url()}: console: ${m.text()}`);
      }
    });
    return page;
  }

  // step runs one check and screenshots the page whatever happens; a flow stops at its first
  // failure, since its later steps build on it.
  async function step(page, name, fn) {
    const file = path.join(opt.out, `${script}-${String(++shot).padStart(2, '0')}-${name}.png`);
    const begin = Date.now();
    let err;
    try {
      await fn();
    } catch (e) {
      err = e;
    }
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    const ms = Date.now() - begin;
    if (err) {
      failed++;
      const why = err instanceof Failed ? err.message : err.stack || String(err);
      console.log(`FAIL ${name} (${ms} ms): ${why}\n     screenshot: ${file}\n     page: ${page.url()}`);
      throw new StopFlow();
    }
    passed++;
    console.log(`ok   ${name} (${ms} ms)`);
  }
  class StopFlow extends Error {}

  async function flow(fn) {
    try {
      await fn();
    } catch (e) {
      if (!(e instanceof StopFlow)) {
        failed++;
        console.log(`FAIL ${e.stack || e}`);
      }
    }
  }

  // ------------------------------------------------ the senior pages' form and design rules
  // fillForm fills the join form the way a senior does, without counting: typing is not tapping.
  async function fillForm(page, lang, who) {
    await page.locator('#name').fill(who.name);
    await page.locator('#phone').fill(who.phone);
    await page.locator('#birthYear').fill(who.birthYear);
    await page.getByLabel(T(lang, 'page.join.gender_female'), { exact: true }).check();
    const chips = page.locator('#interests input');
    if (await chips.count()) { await chips.first().check(); }
    await page.locator('#consent-service').check();
    await page.locator('#consent-health').check();
    await page.locator('#acceptCovenant').check();
  }

  // submit taps the join button (through tap, when the caller counts a senior's taps) and returns
  // the member id the API answered with.
  async function submit(page, tap = (locator) => locator.tap()) {
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/signup') && r.request().method() === 'POST');
    await tap(page.locator('#join-submit'));
    const res = await answered;
    expect(res.status() === 201, `POST /api/signup: status ${res.status()}: ${await res.text()}`);
    return (await res.json()).memberId;
  }

  // primaries checks the screen shows one main action at most.
  async function onePrimary(page) {
    const n = await page.locator('.primary:visible').count();
    expect(n <= 1, `${n} primary buttons on one screen`);
  }

  // sizes checks what a senior reads and taps on the page as it stands: text at least 18px, every
  // control at least 48x48 px (a checkbox or radio counts by its label, which is what is tapped).
  async function sizes(page) {
    const bad = await page.evaluate(() => {
      const out = [];
      const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
      for (const el of document.querySelectorAll('button, a, input:not([type=checkbox]):not([type=radio]), label.choice, label.chip')) {
        if (!visible(el)) { continue; }
        const r = el.getBoundingClientRect();
        if (r.height < 48 || r.width < 48) { out.push(`target ${el.id || el.textContent.trim().slice(0, 12)} ${Math.round(r.width)}x${Math.round(r.height)}`); }
      }
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!n.textContent.trim() || !el || !visible(el) || el.closest('script, template, noscript')) { continue; }
        const px = parseFloat(getComputedStyle(el).fontSize);
        if (px < 18) { out.push(`text "${n.textContent.trim().slice(0, 12)}" ${px}px`); }
      }
      return out;
    });
    expect(bad.length === 0, `too small for a senior: ${bad.join('; ')}`);
  }

  // finish reports the script and CSP errors seen on any page, closes the browser and prints the
  // summary line ("join e2e: 12 passed, 0 failed"); it exits 1 if anything failed.
  async function finish() {
    if (pageErrors.length) {
      failed++;
      console.log(`FAIL no-script-errors: ${pageErrors.length} script or CSP error(s):\n  ${pageErrors.join('\n  ')}`);
    } else {
      passed++;
      console.log('ok   no-script-errors');
    }
    await browser.close();
    console.log(`${script} e2e: ${passed} passed, ${failed} failed (screenshots in ${opt.out})`);
    process.exit(failed ? 1 : 0);
  }

  return {
    opt, base, joinCode, T, TIMEOUT, WECHAT_UA, SEEDED_STORE, SEEDED_GROUP, SEEDED_COVENANT,
    Failed, expect, reEscape, text, outboxCode, newPage, step, flow, finish,
    fillForm, submit, onePrimary, sizes,
  };
}
