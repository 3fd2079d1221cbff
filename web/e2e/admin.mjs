// admin.mjs drives the staff admin page (/admin) in a real browser — Debian's chromium through
// playwright-core — the way a store clerk uses it on a phone inside WeChat: paste the token, see
// the store's groups, create a group, create an invite, get a validation error in their language,
// be told when the token is no good; then the list once more in English. In the created group
// (staff approval), two seniors sign up through the API (one verifies, one does not): the clerk
// opens the member list, approves one, marks the other verified in person, reads the group's
// health figures and shows the printable join QR code, whose encoder is checked against vectors
// made with libqrencode.
//
//	node web/e2e/admin.mjs --base http://127.0.0.1:PORT --token JWT --out DIR [--join-code CODE]
//
// --join-code is the seeded demo group's join code, checked when given. A full-page screenshot of
// every step goes to DIR. Prints one line per check and a summary ("admin e2e: 9 passed, 0
// failed"); exits 1 if any check failed, 2 on bad arguments. cmd/local/e2e_test.go runs it
// against the whole stack in-process (make test).
import { open } from './harness.mjs';

const h = await open('admin');
const { opt, base, T, TIMEOUT, SEEDED_GROUP, Failed, expect, text, newPage, step, flow } = h;

// A join or invite code: 8 characters from shared/ids' alphabet (no 0/O, 1/I/L).
const CODE = /^[2-9A-HJKMNP-Z]{8}$/;

// signIn pastes token into the sign-in form the way a clerk does: into the box, then the button.
async function signIn(page, token) {
  await page.locator('#token').fill(token);
  await page.locator('#token-form button[type=submit]').click();
}

// groupRow is the list entry whose name is exactly name.
const groupRow = (page, name) => page.locator('#groups > li.group').filter({
  has: page.locator('.g-name', { hasText: new RegExp('^' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$') }),
});

// QR_VECTORS are [text, mask, rows]: symbols made by libqrencode (`qrencode -l M -8 -t ASCII -m 0`),
// each row as a hex number of its modules (dark = 1). web/static/qr.js must draw the same
// modules with the same mask.
const QR_VECTORS = [
["HELLO",3,"1fd27f,105e41,17455d,17555d,17425d,104341,1fd57f,1300,16eb4b,dafcc,114a03,16227a,bf125,1e45,1fd320,10543e,1741fb,17565e,175964,1044b1,1fd4a0"],
["http://127.0.0.1:8080/join/ABCDEFGH",0,"1fc24e7f,105a8341,1744265d,1742845d,175a9f5d,104d6641,1fd5557f,2e00,15423812,18bbb0e9,174a4597,c13deea,e575a6b,17bc706d,2529943,172b1a9a,c5b1c43,630b0e5,17d349ab,916feca,154553f0,1a7917,1fcf975b,104d3f19,175d11f9,174dbb9b,175ecc9d,104c09ba,1fdb91db"],
["a*200",1,"1fd36e955555e7f,104f48244444a41,1756ed7edeeee5d,17406c9a8aaaa5d,1749619fd55525d,105c092c4444441,1fd55555555557f,89d8c5111000,146e83efd555625,13576a2aaaaaa1,4519617bbbb9b5,1839bd4a111101a,1a5ee33b555565b,1bb5963eaaaaaa1,659762bbbbb9b5,183dfdbd1111018,1a52716d555565a,1b35f462aaaaaa1,3d542d7bbbb9b5,19bdcd49d11101a,1afe7929955565b,1ab4f9e2eaaaaa1,2d543d7fbbb9b5,118dc849011101a,2ca7429455565b,a8df3e29aaaaa1,1bf483dfcbbb9f5,11c0e4c511111a,35ac42d555575b,51c2bec6aaa911,df4c3d7fbbbbf5,d1fce00511134a,126ae49ed5556eb,192c6b46aaaa8a0,95ce3117bbbb54,9034e405111348,1762956fd5556eb,1e2c6927aaaa8a1,dd0d51e7bbbb55,80b7ec7511134a,17e691eed5556eb,1e236726aaaa8a1,1c58df117bbbb55,70c0411134a,fc893eef5556eb,6896e26aaaa8a1,14fbd511fbbbb55,1f1072c0911134a,68c3efd5557fb,1846246aaab11,1fd9b5957bbbb55,10435284511111a,1748f3b7d5557fb,174896752aaa910,175d352d7bbb957,1047923a91112a8,1fd0e16795557b9"]
];

// api calls the stack's API from outside the browser (the seniors' side of the test).
async function api(method, p, body, auth = true) {
  const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
  if (auth) { headers.Authorization = 'Bearer ' + opt.token; }
  const res = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = {};
  try { data = await res.json(); } catch { /* empty */ }
  return { status: res.status, data };
}

// signupSenior joins group code as a senior; with verify, reads the code from the outbox and
// verifies the phone. Returns the member id.
async function signupSenior(code, name, phone, verify) {
  const r = await api('POST', '/api/signup', {
    code, name, phone, birthYear: 1950, consents: { service: true }, acceptCovenant: true,
  }, false);
  expect(r.status === 201, `POST /api/signup: ${r.status} ${JSON.stringify(r.data)}`);
  const id = r.data.memberId;
  if (!verify) { return id; }
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const o = await api('GET', '/api/admin/outbox?limit=50');
    const m = (o.data.items || []).find((it) => it.memberId === id && it.kind === 'otp');
    const otp = m && /\d{6}/.exec(m.text || '');
    if (otp) {
      const v = await api('POST', '/api/signup/verify', { memberId: id, otp: otp[0] }, false);
      expect(v.status === 200 || v.status === 201, `POST /api/signup/verify: ${v.status} ${JSON.stringify(v.data)}`);
      expect(v.data.status === 'pending_approval', `verified member status ${v.data.status}, want pending_approval`);
      return id;
    }
    expect(Date.now() < deadline, `no code in the outbox for ${id}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

// memberRow is the member list entry (in group row) whose name is name.
const memberRow = (row, name) => row.locator('.members > li.member').filter({ has: row.page().locator('.m-name', { hasText: name }) });

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

  await step(page, 'qr-encoder-vectors', async () => {
    const bad = await page.evaluate((vectors) => vectors.map(([t, mask, rows]) => {
      const text = t === 'a*200' ? 'a'.repeat(200) : t;
      const m = window.YinlingQR.matrix(text, mask);
      const want = rows.split(',').map((h) => BigInt('0x' + h).toString(2).padStart(m.length, '0'));
      const got = m.map((r) => r.map((b) => (b ? '1' : '0')).join(''));
      return got.length === want.length && got.every((r, i) => r === want[i]) ? '' : `${t}: modules differ`;
    }).filter(Boolean), QR_VECTORS);
    expect(bad.length === 0, bad.join('; '));
  });

  const approver = '王秀英';
  const unverified = '李桂兰';
  await step(page, 'members-list', async () => {
    const row = groupRow(page, newName);
    const code = (await row.locator('.g-code').innerText()).trim();
    await signupSenior(code, approver, '13700137001', true);
    await signupSenior(code, unverified, '13700137002', false);
    await row.locator('.g-members').click();
    const a = memberRow(row, approver);
    await text(a.locator('.m-st'), T(zh, 'page.admin.status_pending_approval'), 'pending member status');
    await text(a.locator('.m-phone'), /\*{4}/, 'masked phone');
    await text(a.locator('.m-tier-w'), T(zh, 'page.admin.tier_member'), 'tier in words');
    expect(await a.locator('.m-approve').isVisible(), 'no approve button for a member waiting for approval');
    const u = memberRow(row, unverified);
    await text(u.locator('.m-st'), T(zh, 'page.admin.status_pending_verification'), 'unverified member status');
    expect(await u.locator('.m-verify').isVisible(), 'no verify-in-person button for an unverified phone');
    expect(await u.locator('.m-approve').isHidden(), 'approve offered for an unverified phone');
  });

  await step(page, 'approve-member', async () => {
    const a = memberRow(groupRow(page, newName), approver);
    await a.locator('.m-approve').click();
    await text(a.locator('.m-st'), T(zh, 'page.admin.status_active'), 'status after approval');
    expect(await a.locator('.m-approve').isHidden(), 'approve button still shown after approval');
  });

  await step(page, 'verify-in-person-and-tier', async () => {
    const u = memberRow(groupRow(page, newName), unverified);
    await u.locator('.m-verify').click();
    await text(u.locator('.m-ok'), T(zh, 'page.admin.saved'), 'saved after verify in person');
    expect(await u.locator('.m-verify').isHidden(), 'verify button still shown after verifying');
    await u.locator('select[name=tier]').selectOption('leader');
    await u.locator('input[name=tags]').fill('太极拳，糖尿病');
    await u.locator('.m-edit button').click();
    await text(u.locator('.m-tier-w'), T(zh, 'page.admin.tier_leader'), 'tier after save');
    expect(await u.locator('input[name=tags]').inputValue() === '太极拳，糖尿病', 'tags not kept after save');
  });

  await step(page, 'health-panel', async () => {
    const row = groupRow(page, newName);
    await row.locator('.g-health').click();
    await text(row.locator('.h-members'), '1', 'members (the approved one)');
    await text(row.locator('.h-pending'), '0', 'waiting for approval');
    await text(row.locator('.h-active'), /^\d+$/, 'active');
    await text(row.locator('.h-joined'), new RegExp(T(zh, 'page.admin.h_total') + ' \\d+'), 'joined in 30 days');
    expect(await row.locator('.h-error').isHidden(), `health error: ${await row.locator('.h-error').innerText()}`);
  });

  await step(page, 'qr-card', async () => {
    const row = groupRow(page, newName);
    await row.locator('.g-qr').click();
    const code = (await row.locator('.g-code').innerText()).trim();
    await text(row.locator('.q-code'), code, 'code on the card');
    await text(row.locator('.q-name'), newName, 'group name on the card');
    const d = await row.locator('.q-svg path').getAttribute('d');
    expect(d && d.length > 100, 'no QR drawn');
    // window.print opens a dialog; record what would be printed instead.
    await page.evaluate(() => {
      window.print = () => { window.printed = !!document.querySelector('body.printing .print-me svg path'); };
    });
    await row.locator('.q-print').click();
    expect(await page.evaluate(() => window.printed) === true, 'print did not mark the card for printing');
    await page.emulateMedia({ media: 'print' });
    await row.locator('.qr-card').evaluate((el) => { el.classList.add('print-me'); document.body.classList.add('printing'); });
  });
  await page.emulateMedia({ media: 'screen' });
  await page.evaluate(() => document.querySelectorAll('.print-me, .printing').forEach((el) => el.classList.remove('print-me', 'printing')));

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

await h.finish();
