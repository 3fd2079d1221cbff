// family.mjs drives the family link pages in a real browser — Debian's chromium through
// playwright-core — the way a senior and their daughter use them: the senior joins with the group's
// code and verifies, makes a family link on "my page" (label, scope, alerts), copies the URL that
// is shown once; the daughter, on her own phone, opens it and sees whose page it is; the senior
// revokes it (a second tap confirms) and the daughter's reload says, kindly, that the link no
// longer works.
//
//	node web/e2e/family.mjs --base http://127.0.0.1:PORT --token JWT --join-code CODE --out DIR
//
// --token is a staff token of the demo store (to read the code texted to the senior from the
// local outbox), --join-code the seeded demo group's join code. It prints one line per check and
// a summary ("family e2e: 6 passed, 0 failed"); exits 1 if any check failed, 2 on bad arguments.
// A full-page screenshot of every step goes to DIR. cmd/local/e2e_test.go runs it (make test);
// the harness (harness.mjs) is shared with join.mjs.
import { open } from './harness.mjs';

const h = await open('family');
const {
  opt, base, joinCode, T, TIMEOUT, SEEDED_STORE, SEEDED_GROUP, SEEDED_COVENANT,
  Failed, expect, reEscape, text, outboxCode, newPage, step, flow,
  fillForm, submit, onePrimary, sizes,
} = h;

const zh = 'zh-CN';
const en = 'en';

// ---------------------------------------------------------------- a link made, opened, revoked
await flow(async () => {
  const senior = await newPage(zh);
  const who = { name: '赵淑芬', phone: '137 0013 7000', birthYear: '1950' };
  let url = '';

  await step(senior, 'senior-joins', async () => {
    const res = await senior.goto(base + '/join/' + joinCode);
    expect(res && res.status() === 200, `GET /join/${joinCode}: status ${res && res.status()}`);
    await text(senior.locator('#group'), SEEDED_GROUP, 'group name');
    await fillForm(senior, zh, who);
    const memberId = await submit(senior);
    const { code } = await outboxCode(memberId);
    await senior.locator('#otp').fill(code);
    await senior.locator('#otp-submit').tap();
    await senior.waitForURL(base + '/me', { timeout: TIMEOUT });
    await text(senior.locator('#greeting'), T(zh, 'page.me.greeting', { name: who.name }), 'greeting');
    await text(senior.locator('#links-h'), T(zh, 'page.me.links_heading'), 'family links heading');
    await text(senior.locator('#links-empty'), T(zh, 'page.me.links_empty'), 'no links yet');
    await onePrimary(senior);
    await sizes(senior);
  });

  await step(senior, 'link-created', async () => {
    await senior.locator('#link-label').fill('女儿');
    await senior.getByText(T(zh, 'page.me.scope_view'), { exact: true }).tap();
    await senior.getByText(T(zh, 'page.me.alerts_label'), { exact: true }).tap();
    expect(await senior.locator('#link-alerts').isChecked(), 'the alerts box did not take the tap');
    // Alerts go to a number: the field for it appears with the tick.
    await senior.locator('#alert-phone').fill('139 0000 1234');
    const answered = senior.waitForResponse((r) => r.url().endsWith('/api/me/family-links') && r.request().method() === 'POST');
    await senior.locator('#link-submit').tap();
    const res = await answered;
    expect(res.status() === 201, `POST /api/me/family-links: status ${res.status()}: ${await res.text()}`);
    url = await text(senior.locator('#created-url'), new RegExp('^' + reEscape(base) + '/f/[A-Za-z0-9_-]{40,}$'), 'the link, shown once');
    await text(senior.locator('#created-once'), T(zh, 'page.me.created_once', { label: '女儿' }), 'shown-once note');
    expect(await senior.locator('#link-form').isHidden(), 'the form still shows next to the new link');
    const row = senior.locator('#links > li').filter({ has: senior.locator('.l-label', { hasText: '女儿' }) });
    await text(row.locator('.l-scope'), T(zh, 'page.me.scope_view'), 'what the link allows');
    await text(row.locator('.l-used'), T(zh, 'page.me.link_never'), 'never opened');
    await text(row.locator('.l-alerts'), T(zh, 'page.me.link_alerts') + ' 139****1234', 'alerts on, to the masked number');
    await senior.locator('#copy').tap();
    await text(senior.locator('#copy-status'), new RegExp('^(' + reEscape(T(zh, 'page.me.copied')) + '|' + reEscape(T(zh, 'page.me.copy_select')) + ')$'), 'copied');
    await onePrimary(senior);
    await sizes(senior);
  });

  const relative = await newPage(zh);
  await step(relative, 'relative-opens', async () => {
    const res = await relative.goto(url);
    expect(res && res.status() === 200, `GET ${url}: status ${res && res.status()}`);
    const h = res.headers();
    expect(h['referrer-policy'] === 'no-referrer', `referrer-policy: ${h['referrer-policy']}`);
    expect(/noindex/.test(h['x-robots-tag'] || ''), `x-robots-tag: ${h['x-robots-tag']}`);
    await text(relative.locator('#whose'), T(zh, 'page.family.heading', { name: who.name }), 'whose page');
    await text(relative.locator('#for'), T(zh, 'page.family.for', { label: '女儿' }), 'who the link is for');
    await text(relative.locator('#allows'), T(zh, 'page.family.scope_view'), 'what the link allows');
    await onePrimary(relative);
    await sizes(relative);
  });

  await step(relative, 'relative-english', async () => {
    await relative.goto(url + '?lang=en');
    await text(relative.locator('#whose'), T(en, 'page.family.heading', { name: who.name }), 'whose page, in English');
    await text(relative.locator('#allows'), T(en, 'page.family.scope_view'), 'what the link allows, in English');
  });

  await step(senior, 'senior-revokes', async () => {
    await senior.locator('#created-done').tap();
    expect(await senior.locator('#created-url').isHidden(), 'the link still shows after "done"');
    const row = senior.locator('#links > li').filter({ has: senior.locator('.l-label', { hasText: '女儿' }) });
    const btn = row.locator('.l-revoke');
    await btn.tap();
    await text(btn, T(zh, 'page.me.revoke_confirm'), 'revoke asks first');
    expect(await row.count() === 1, 'one tap revoked the link');
    const answered = senior.waitForResponse((r) => r.url().includes('/api/me/family-links/') && r.request().method() === 'DELETE');
    await btn.tap();
    const res = await answered;
    expect(res.status() === 204, `DELETE family link: status ${res.status()}`);
    await row.waitFor({ state: 'detached', timeout: TIMEOUT });
    await text(senior.locator('#links-empty'), T(zh, 'page.me.links_empty'), 'no links left');
    await sizes(senior);
  });

  await step(relative, 'relative-link-gone', async () => {
    await relative.goto(url);
    await relative.reload();
    await text(relative.locator('#gone h1'), T(zh, 'page.family.gone_heading'), 'no longer valid');
    await text(relative.locator('#gone .notice'), T(zh, 'page.family.gone_ask'), 'ask for a new link');
    expect(await relative.locator('#view').isHidden(), 'the senior\'s page still shows');
    await sizes(relative);
  });
});

await h.finish();
