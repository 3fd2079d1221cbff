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
import { open } from './harness.mjs';

const h = await open('join');
const {
  opt, base, joinCode, T, TIMEOUT, SEEDED_STORE, SEEDED_GROUP, SEEDED_COVENANT,
  Failed, expect, reEscape, text, outboxCode, newPage, step, flow,
  fillForm, submit, onePrimary, sizes,
} = h;

// A senior's taps after the form is filled, by what they tapped.
const taps = [];
async function tap(locator, what) {
  await locator.tap();
  taps.push(what);
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
    memberId = await submit(page, (l) => tap(l, T(zh, 'page.join.submit')));
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
    memberId = await submit(page);
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

await h.finish();
