// join.mjs drives the senior pages (/join/{code}, /me) in a real browser — Debian's chromium
// through playwright-core — the way a senior uses them on a cheap phone inside WeChat: open the
// group's join link, fill in the one form, tap "加入", read the code from the text message, type
// it, tap "确认", and arrive on "my page" as a member. Then what goes wrong: a wrong code, a code
// sent again, a mistyped phone number (in English), an unknown join code, my page without a
// session, and my page with JavaScript off.
//
//	node web/e2e/join.mjs --base http://127.0.0.1:PORT --token JWT --join-code CODE --out DIR
//
// --token is a staff token of the demo store: the script reads the text messages from the local
// outbox (GET /api/admin/outbox) as the senior would read them on their phone. --join-code is
// the seeded demo group's join code. It prints one line per check, the taps the senior needed
// after filling in the form, and a summary ("join e2e: 12 passed, 0 failed"); exits 1 if any
// check failed, 2 on bad arguments. A full-page screenshot of every step goes to DIR.
// cmd/local/e2e_test.go runs it against the whole stack in-process (make test).
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

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
  console.error('usage: node join.mjs --base http://127.0.0.1:PORT --token JWT --join-code CODE --out DIR');
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

// A phone inside WeChat: where most seniors open the link.
const WECHAT_UA = 'Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 ' +
  '(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 ' +
  'MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64';

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
      '--disable-component-update', '--no-first-run', '--disable-sync'],
    timeout: 30_000,
  });
} catch (e) {
  console.log(`FAIL launch ${opt.chromium}: ${e.message}`);
  console.log('join e2e: 0 passed, 1 failed');
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
  const file = path.join(opt.out, `join-${String(++shot).padStart(2, '0')}-${name}.png`);
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

// A senior's taps after the form is filled, by what they tapped.
const taps = [];
async function tap(locator, what) {
  await locator.tap();
  taps.push(what);
}

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

// signup taps the join button and returns the member id the API answered with.
async function submit(page, counted) {
  const answered = page.waitForResponse((r) => r.url().endsWith('/api/signup') && r.request().method() === 'POST');
  if (counted) {
    await tap(page.locator('#join-submit'), T('zh-CN', 'page.join.submit'));
  } else {
    await page.locator('#join-submit').tap();
  }
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

const zh = 'zh-CN';
const en = 'en';

// ---------------------------------------------------------------- zh-CN: join, verify, my page
await flow(async () => {
  const page = await newPage(zh);
  const who = { name: '张桂兰', phone: '138 0013 8000', birthYear: '1952' };
  let memberId = '';

  await step(page, 'open', async () => {
    const res = await page.goto(base + '/join/' + joinCode);
    expect(res && res.status() === 200, `GET /join/${joinCode}: status ${res && res.status()}`);
    expect(await page.getAttribute('html', 'lang') === zh, `html lang is ${await page.getAttribute('html', 'lang')}, want ${zh}`);
    await text(page.locator('#store'), SEEDED_STORE, 'store name');
    await text(page.locator('#group'), SEEDED_GROUP, 'group name');
    await text(page.locator('#covenant'), new RegExp(reEscape(SEEDED_COVENANT)), 'covenant');
    await text(page.locator('#join-submit'), T(zh, 'page.join.submit'), 'join button');
    expect(!(await page.locator('#consent-marketing').isChecked()), 'marketing is ticked before the senior chose it');
    expect(await page.locator('#phone').getAttribute('inputmode') === 'tel', 'phone input is not inputmode=tel');
    expect(await page.locator('#birthYear').getAttribute('inputmode') === 'numeric', 'birth year input is not inputmode=numeric');
    await onePrimary(page);
    await sizes(page);
  });

  await step(page, 'filled', async () => {
    await fillForm(page, zh, who);
    expect(await page.locator('#acceptCovenant').isChecked(), 'covenant box did not take the tick');
  });

  await step(page, 'code-step', async () => {
    memberId = await submit(page, true);
    await text(page.locator('#otp-sent'), T(zh, 'page.join.otp_sent', { phone: '138****8000' }), 'code sent to');
    expect(await page.locator('#join').isHidden(), 'the form still shows on the code step');
    const otp = page.locator('#otp');
    expect(await otp.getAttribute('inputmode') === 'numeric', 'code input is not inputmode=numeric');
    expect(await otp.getAttribute('autocomplete') === 'one-time-code', 'code input is not autocomplete=one-time-code');
    expect(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'otp', 'the code box is not focused');
    await onePrimary(page);
    await sizes(page);
  });

  await step(page, 'my-page', async () => {
    const { code } = await outboxCode(memberId);
    // Focus moved to the box by script does not raise a phone's keyboard: the senior taps it.
    await tap(page.locator('#otp'), '验证码框');
    await page.locator('#otp').fill(code);
    await tap(page.locator('#otp-submit'), T(zh, 'page.join.otp_submit'));
    await page.waitForURL(base + '/me', { timeout: TIMEOUT });
    await text(page.locator('#greeting'), T(zh, 'page.me.greeting', { name: who.name }), 'greeting');
    const row = page.locator('#groups > li').filter({ has: page.locator('.g-name', { hasText: SEEDED_GROUP }) });
    await text(row.locator('.g-status'), T(zh, 'page.me.status_active'), 'group status');
    await text(page.locator('#phone'), T(zh, 'page.me.phone', { phone: '138****8000' }), 'masked phone');
    await text(page.locator('#consent-health'), T(zh, 'page.me.consent_yes'), 'health consent');
    await text(page.locator('#consent-marketing'), T(zh, 'page.me.consent_no'), 'marketing consent');
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'yl_session');
    expect(session && session.httpOnly, 'no httpOnly yl_session cookie');
    expect(await page.evaluate(() => document.cookie.includes('yl_session')) === false, 'script can read the session cookie');
    await sizes(page);
  });
  console.log(`taps after the form was filled: ${taps.length} (${taps.join(', ')})`);

  // The senior scans the group's QR code once more on the same phone: straight to my page.
  await step(page, 'again-signed-in', async () => {
    await page.goto(base + '/join/' + joinCode);
    await page.waitForURL(base + '/me', { timeout: TIMEOUT });
    await text(page.locator('#greeting'), T(zh, 'page.me.greeting', { name: who.name }), 'greeting');
  });

  // The same number on a new phone: the same form, a code to that number, and they are in.
  const other = await newPage(zh);
  await step(other, 'again-other-phone', async () => {
    await other.goto(base + '/join/' + joinCode);
    await fillForm(other, zh, who);
    const earlier = await outboxCode(memberId);
    await other.locator('#join-submit').tap();
    await other.locator('#otp').waitFor({ state: 'visible', timeout: TIMEOUT });
    const { code } = await outboxCode(memberId, new Set([earlier.id]));
    await other.locator('#otp').fill(code);
    await other.locator('#otp-submit').tap();
    await other.waitForURL(base + '/me', { timeout: TIMEOUT });
    await text(other.locator('#greeting'), T(zh, 'page.me.greeting', { name: who.name }), 'greeting on the new phone');
  });
});

// ---------------------------------------------------------------- zh-CN: a wrong code, then a new one
await flow(async () => {
  const page = await newPage(zh);
  const who = { name: '李秀英', phone: '+86 139 0013 9000', birthYear: '１９４８' }; // full-width digits, as some keyboards type
  let memberId = '';
  let first;

  await step(page, 'wrong-code', async () => {
    await page.goto(base + '/join/' + joinCode);
    await text(page.locator('#group'), SEEDED_GROUP, 'group name');
    await fillForm(page, zh, who);
    memberId = await submit(page, false);
    await text(page.locator('#otp-sent'), T(zh, 'page.join.otp_sent', { phone: '139****9000' }), 'code sent to');
    first = await outboxCode(memberId);
    await page.locator('#otp').fill(first.code === '000000' ? '111111' : '000000');
    await page.locator('#otp-submit').tap();
    // The API's own message (catalog error.otp_wrong), next to the code box, in Chinese.
    await text(page.locator('[data-field="otp"] .field-error'), T(zh, 'error.otp_wrong'), 'wrong-code error');
    expect(await page.locator('#otp').getAttribute('aria-invalid') === 'true', 'code box not marked aria-invalid');
    expect(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'otp', 'focus did not return to the code box');
    await sizes(page);
  });

  await step(page, 'send-again', async () => {
    // Codes are texted with a per-second message id: a second code within the same second as
    // the first would be the same message. No senior taps that fast; the script waits.
    await page.waitForTimeout(1100);
    await page.locator('#resend').tap();
    await text(page.locator('#resend-status'), T(zh, 'page.join.resent'), 'sent-again notice');
    expect(await page.locator('[data-field="otp"] .field-error').isHidden(), 'the old error still shows');
    const second = await outboxCode(memberId, new Set([first.id]));
    await page.locator('#otp').fill(second.code);
    await page.locator('#otp-submit').tap();
    await page.waitForURL(base + '/me', { timeout: TIMEOUT });
    await text(page.locator('#greeting'), T(zh, 'page.me.greeting', { name: who.name }), 'greeting');
  });
});

// ---------------------------------------------------------------- English: a mistyped number
await flow(async () => {
  const page = await newPage(en);
  await step(page, 'en-phone-error', async () => {
    await page.goto(base + '/join/' + joinCode + '?lang=en');
    expect(await page.getAttribute('html', 'lang') === en, `html lang is ${await page.getAttribute('html', 'lang')}, want ${en}`);
    await text(page.locator('#join-submit'), T(en, 'page.join.submit'), 'join button');
    await fillForm(page, en, { name: 'Wang Fang', phone: '12345', birthYear: '1950' });
    await page.locator('#join-submit').tap();
    await text(page.locator('#phone-error'), T(en, 'error.invalid_phone'), 'phone field error');
    expect(await page.locator('#phone').getAttribute('aria-invalid') === 'true', 'phone field not marked aria-invalid');
    expect(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'phone', 'focus did not move to the phone field');
    await sizes(page);
  });
});

// ---------------------------------------------------------------- a code that does not exist
await flow(async () => {
  const page = await newPage(zh);
  await step(page, 'unknown-code', async () => {
    const res = await page.goto(base + '/join/ZZZZ2222');
    expect(res && res.status() === 200, `GET /join/ZZZZ2222: status ${res && res.status()}`);
    await text(page.locator('#bad h1'), T(zh, 'page.join.bad_heading'), 'heading');
    await text(page.locator('#bad-text'), T(zh, 'page.join.bad_default'), 'why');
    await text(page.locator('#bad .notice'), T(zh, 'page.join.bad_staff'), 'ask the staff');
    expect(await page.locator('#join-form').isHidden(), 'the form shows for an unknown code');
    await sizes(page);
  });
});

// ---------------------------------------------------------------- my page without a session
await flow(async () => {
  const page = await newPage(zh);
  await step(page, 'me-signed-out', async () => {
    await page.goto(base + '/me');
    await text(page.locator('#signedout h1'), T(zh, 'page.me.signedout_heading'), 'heading');
    await text(page.locator('#signedout p.big'), T(zh, 'page.me.signedout_text'), 'how to sign in');
    await sizes(page);
  });
});

// ---------------------------------------------------------------- JavaScript off: never blank
await flow(async () => {
  const page = await newPage(zh, { javaScriptEnabled: false });
  await step(page, 'me-no-script', async () => {
    await page.goto(base + '/me');
    await text(page.locator('main'), new RegExp(reEscape(T(zh, 'page.me.noscript'))), 'noscript explanation');
  });
  await step(page, 'join-no-script', async () => {
    await page.goto(base + '/join/' + joinCode);
    await text(page.locator('main'), new RegExp(reEscape(T(zh, 'page.join.noscript'))), 'noscript explanation');
  });
});

// ---------------------------------------------------------------- across all pages
passed++;
if (pageErrors.length) {
  passed--;
  failed++;
  console.log(`FAIL no-script-errors: ${pageErrors.length} script or CSP error(s):\n  ${pageErrors.join('\n  ')}`);
} else {
  console.log('ok   no-script-errors');
}

await browser.close();
console.log(`join e2e: ${passed} passed, ${failed} failed (screenshots in ${opt.out})`);
process.exit(failed ? 1 : 0);
