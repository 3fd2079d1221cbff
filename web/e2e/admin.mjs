// admin.mjs drives the staff admin page (/admin) in a real browser — Debian's chromium through
// playwright-core — the way a store clerk uses it on a phone inside WeChat: paste the token, see
// the store's groups, create a group, create an invite, get a validation error in their language,
// be told when the token is no good; then the list once more in English.
//
//	node web/e2e/admin.mjs --base http://127.0.0.1:PORT --token JWT --out DIR [--join-code CODE]
//
// --join-code is the seeded demo group's join code, checked when given. A full-page screenshot of
// every step goes to DIR. Prints one line per check and a summary ("admin e2e: 9 passed, 0
// failed"); exits 1 if any check failed, 2 on bad arguments. cmd/local/e2e_test.go runs it
// against the whole stack in-process (make test).
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
    out: { type: 'string' },
    'join-code': { type: 'string', default: '' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
  },
});
if (!opt.base || !opt.token || !opt.out) {
  console.error('usage: node admin.mjs --base http://127.0.0.1:PORT --token JWT --out DIR [--join-code CODE]');
  process.exit(2);
}
const base = opt.base.replace(/\/+$/, '');

// The pages' wording comes from the same catalogs the server renders, so a reworded message does
// not break this script while a message that is missing or in the wrong language does.
const catalog = {};
for (const lang of ['zh-CN', 'en']) {
  catalog[lang] = JSON.parse(await readFile(path.join(here, '..', '..', 'shared', 'i18n', 'catalog', lang + '.json'), 'utf8'));
}
const T = (lang, key) => {
  const s = catalog[lang][key];
  if (s === undefined) { throw new Error(`catalog ${lang} has no ${key}`); }
  return s;
};

// The seeded group (cmd/local/seed.go).
const SEEDED_GROUP = '幸福里邻里健康群';
// A join or invite code: 8 characters from shared/ids' alphabet (no 0/O, 1/I/L).
const CODE = /^[2-9A-HJKMNP-Z]{8}$/;

// A phone inside WeChat: what most clerks open the page in.
const WECHAT_UA = 'Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 ' +
  '(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 ' +
  'MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64';

const TIMEOUT = 10_000; // per wait; the whole run takes a few seconds

class Failed extends Error {}
function expect(cond, what) {
  if (!cond) { throw new Failed(what); }
}
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
  console.log('admin e2e: 0 passed, 1 failed');
  process.exit(1);
}

let passed = 0;
let failed = 0;
let shot = 0;
const pageErrors = [];

// newPage opens a fresh phone (its own sessionStorage) in lang's locale.
async function newPage(lang) {
  const ctx = await browser.newContext({
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    userAgent: WECHAT_UA,
    locale: lang,
    timezoneId: 'Asia/Shanghai',
  });
  ctx.setDefaultTimeout(TIMEOUT);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${lang} ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    // A refused request (400, 401) is logged by the browser itself; that is the page working.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      pageErrors.push(`${lang} ${page.url()}: console: ${m.text()}`);
    }
  });
  return page;
}

// step runs one check and screenshots the page whatever happens; a flow stops at its first
// failure, since its later steps build on it.
async function step(page, name, fn) {
  const file = path.join(opt.out, `admin-${String(++shot).padStart(2, '0')}-${name}.png`);
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

// signIn pastes token into the sign-in form the way a clerk does: into the box, then the button.
async function signIn(page, token) {
  await page.locator('#token').fill(token);
  await page.locator('#token-form button[type=submit]').click();
}

// groupRow is the list entry whose name is exactly name.
const groupRow = (page, name) => page.locator('#groups > li.group').filter({
  has: page.locator('.g-name', { hasText: new RegExp('^' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$') }),
});

// The group this run creates; the English flow looks for it only if it was created.
let created = false;
const newName = `e2e 测试群 ${new Date().toISOString().slice(11, 19)}`;
const covenant = '1. 互相尊重。\n2. 不发广告。';

// ---------------------------------------------------------------- zh-CN: the clerk's day
await flow(async () => {
  const zh = 'zh-CN';
  const page = await newPage(zh);

  await step(page, 'open', async () => {
    const res = await page.goto(base + '/admin');
    expect(res && res.status() === 200, `GET /admin: status ${res && res.status()}`);
    expect(await page.getAttribute('html', 'lang') === zh, `html lang is ${await page.getAttribute('html', 'lang')}, want ${zh}`);
    await text(page.locator('h1'), T(zh, 'page.admin.heading'), 'heading');
    await text(page.locator('#signin h2'), T(zh, 'page.admin.token_heading'), 'sign-in heading');
    expect(await page.locator('#app').isHidden(), 'the group list shows before any token');
  });

  await step(page, 'seeded-group-listed', async () => {
    await signIn(page, opt.token);
    const row = groupRow(page, SEEDED_GROUP);
    await text(row.locator('.g-name'), SEEDED_GROUP, 'seeded group in the list');
    await text(row.locator('.g-rule'), T(zh, 'page.admin.rule_open'), 'seeded group entry rule');
    const code = await text(row.locator('.g-code'), CODE, 'seeded group join code');
    if (opt['join-code']) { expect(code === opt['join-code'], `seeded join code ${code}, want ${opt['join-code']}`); }
    expect(await page.locator('#signin').isHidden(), 'sign-in form still shown after signing in');
    expect(!page.url().includes(opt.token.slice(-16)), 'the token ended up in the URL');
    expect(await page.locator('#token').inputValue() === '', 'the token box was not cleared');
  });

  await step(page, 'create-group', async () => {
    await page.locator('#name').fill(newName);
    await page.locator('#covenant').fill(covenant);
    await page.getByLabel(T(zh, 'page.admin.rule_approval')).check();
    await page.locator('#pushCap').fill('3');
    await page.locator('#create-submit').click();
    await text(page.locator('#create-status'), T(zh, 'page.admin.created') + newName, 'created message');
    const row = groupRow(page, newName);
    await text(row.locator('.g-rule'), T(zh, 'page.admin.rule_approval'), 'new group entry rule');
    await text(row.locator('.g-code'), CODE, 'new group join code');
    await text(row.locator('.g-cap'), '3', 'new group push cap');
    await text(row.locator('.g-link'), new RegExp('^' + base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '/'), 'new group join link');
    expect(await page.locator('#name').inputValue() === '', 'the form was not reset after the create');
    created = true;
  });

  await step(page, 'create-invite', async () => {
    const row = groupRow(page, newName);
    await row.locator('.g-invite').click();
    await text(row.locator('.i-code'), CODE, 'invite code');
    await text(row.locator('.i-link'), /^https?:\/\/\S+$/, 'invite link');
    await text(row.locator('.i-exp'), /\d/, 'invite expiry');
    expect(await row.locator('.g-error').isHidden(), `invite error shown: ${await row.locator('.g-error').innerText()}`);
  });

  await step(page, 'empty-name-error', async () => {
    await page.locator('#name').fill('');
    await page.locator('#create-submit').click();
    // The API's own message (catalog error.required), next to the name field, in Chinese.
    await text(page.locator('#name').locator('xpath=..').locator('#name-error'), T(zh, 'error.required'), 'name field error');
    expect(await page.locator('#name').getAttribute('aria-invalid') === 'true', 'name field not marked aria-invalid');
    expect(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'name', 'focus did not move to the name field');
    expect(await page.locator('#create-status').isHidden(), 'the created message still shows next to an error');
  });
});

// ---------------------------------------------------------------- a token that is no good
await flow(async () => {
  const zh = 'zh-CN';
  const page = await newPage(zh);
  await step(page, 'garbage-token', async () => {
    await page.goto(base + '/admin');
    await signIn(page, 'not.a-real.token');
    await text(page.locator('#alert'), T(zh, 'page.admin.token_expired'), 'token refused message');
    expect(await page.locator('#app').isHidden(), 'the group list shows with a refused token');
    expect(await page.locator('#signin').isVisible(), 'the sign-in form is not offered again');
    expect(await page.evaluate(() => sessionStorage.getItem('yinling.staffToken')) === null, 'the refused token was kept in sessionStorage');
  });
});

// ---------------------------------------------------------------- English
await flow(async () => {
  const en = 'en';
  const page = await newPage(en);
  await step(page, 'en-list', async () => {
    await page.goto(base + '/admin?lang=en');
    expect(await page.getAttribute('html', 'lang') === en, `html lang is ${await page.getAttribute('html', 'lang')}, want ${en}`);
    await text(page.locator('h1'), T(en, 'page.admin.heading'), 'heading');
    await signIn(page, opt.token);
    await text(page.locator('#groups-h'), T(en, 'page.admin.groups_heading'), 'groups heading');
    await text(groupRow(page, SEEDED_GROUP).locator('.g-rule'), T(en, 'page.admin.rule_open'), 'seeded group entry rule');
    if (created) {
      await text(groupRow(page, newName).locator('.g-rule'), T(en, 'page.admin.rule_approval'), 'created group entry rule');
    }
  });
  await step(page, 'en-empty-name-error', async () => {
    await page.locator('#create-submit').click();
    await text(page.locator('#name-error'), T(en, 'error.required'), 'name field error');
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
console.log(`admin e2e: ${passed} passed, ${failed} failed (screenshots in ${opt.out})`);
process.exit(failed ? 1 : 0);
