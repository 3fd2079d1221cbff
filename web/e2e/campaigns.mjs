// campaigns.mjs drives the promotion pages in a real browser — Debian's chromium through
// playwright-core, phones inside WeChat — the way a store and a senior meet an offer:
//
//   - a senior joins the demo group with marketing consent (quiet hours set away from now, so the
//     offer goes at once whatever the time of the run);
//   - staff sign in on /admin/campaigns; the body's counter says how much an SMS carries and why;
//     a campaign without a group is refused, and the API's message shows by the groups;
//   - staff create a promotion for the demo group — prices per tier in yuan, picked up in the
//     store, sent now by SMS — with an Idempotency-Key;
//   - the SMS reaches the local outbox with the offer's link (/o/<token>); opened on a phone that
//     never signed in, the page shows the senior's own price (会员价 ¥19.90) and where and when to
//     pick it up; 听一听 reads the API's sentence aloud; one tap unsubscribes and the confirmation
//     says health reminders are not affected — the taps are counted and printed; reopened, it
//     shows the confirmation instead of the button, in English too;
//   - staff open the campaign: while it is sending (its first read is made to say so) the figures
//     are read again every 5 s, in place; sent ≥ 1, opened 1, unsubscribed 1; once it is sent the
//     page stops refreshing; a second campaign, scheduled for tomorrow, is cancelled with two taps.
//
//	node web/e2e/campaigns.mjs --base http://127.0.0.1:PORT --token JWT --join-code CODE --out DIR
//
// --token is a staff token of the demo store (the staff page, and the texts in the local outbox),
// --join-code the seeded demo group's join code. It prints one line per check, the taps and a
// summary ("campaigns e2e: 9 passed, 0 failed"); exits 1 if any check failed. A full-page
// screenshot of every step goes to DIR. cmd/local/campaigns_e2e_test.go runs it (make test).
import { open } from './harness.mjs';

const h = await open('campaigns');
const {
  opt, base, joinCode, T, TIMEOUT, Failed, expect, reEscape, text, outboxCode, newPage, step, flow,
  onePrimary, sizes, SEEDED_GROUP,
} = h;

const zh = 'zh-CN';
const en = 'en';

const SENIOR = { name: '赵淑珍', phone: '136 0013 6201', birthYear: 1950 };
const TITLE = '冬季加绒护膝特惠';
const BODY = '加绒护膝会员价19.9元，本周到店领取。'; // within an SMS's 45
const LONG = '一'.repeat(46); // one character too many for an SMS
const PLACE = '一楼收银台';
const PRICES = { priceMember: '19.90', priceLeader: '15.90', pricePartner: '9.90' };
const LATER_TITLE = '下周养生茶试饮';

// How long the offer may take from "create" to the outbox: the fan-out and the sender run off
// their queues, polled every few seconds under the test.
const SEND_WAIT = 60_000;
// How long the figures may take to show the open and the unsubscription.
const STATS_WAIT = 30_000;

// shanghai returns the local date and time in China of the instant ms.
function shanghai(ms) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, at: `${p.hour}:${p.minute}` };
}

// response waits for the response pred picks, failing with what when none comes; it is awaited
// later, so it must never become an unhandled rejection meanwhile.
function response(page, pred, what, timeout = TIMEOUT) {
  const p = page.waitForResponse(pred, { timeout }).catch((e) => { throw new Failed(`${what}: no response (${e.message.split('\n')[0]})`); });
  p.catch(() => {});
  return p;
}

// call is the page's own fetch of the API (its cookies go along, as a script's would).
function call(page, method, url, body) {
  return page.evaluate(async ({ method, url, body }) => {
    const r = await fetch(url, {
      method, credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Accept-Language': 'zh-CN' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await r.json(); } catch (e) { /* no body */ }
    return { status: r.status, data };
  }, { method, url, body });
}

// outboxOffer waits for the offer texted to memberId and returns the outbox message.
async function outboxOffer(memberId) {
  const deadline = Date.now() + SEND_WAIT;
  let last = '';
  while (Date.now() < deadline) {
    const res = await fetch(base + '/api/admin/outbox?limit=50', { headers: { Authorization: 'Bearer ' + opt.token } });
    last = `status ${res.status}`;
    if (res.status === 200) {
      const { items = [] } = await res.json();
      const m = items.find((it) => it.memberId === memberId && it.kind === 'promotion');
      if (m) { return m; }
      last = `${items.length} messages, none an offer for ${memberId}`;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Failed(`no offer in the outbox within ${SEND_WAIT} ms (${last})`);
}

const staff = await newPage(zh, { viewport: { width: 1024, height: 900 }, isMobile: false, hasTouch: false });
const phone = await newPage(zh);
const form = staff.locator('#create');
const fieldError = (name) => staff.locator(`#create [data-field="${name}"] > .field-error`);
const row = (title) => staff.locator('#campaigns > li').filter({ hasText: title });
const stat = (name) => staff.locator(`#d-stats tr[data-stat="${name}"] td`);

let memberId = '';
let campaign = null; // the promotion, as the API created it
let link = ''; // the offer page's path

// fillOffer fills the offer's prices and place; the pickup window keeps its defaults (today to a
// week on).
async function fillOffer() {
  for (const [name, v] of Object.entries(PRICES)) { await form.locator(`input[name="${name}"]`).fill(v); }
  await form.locator('input[name="pickupPlace"]').fill(PLACE);
}

// create submits the form and returns the response, its request's Idempotency-Key checked.
async function create(what) {
  const answered = response(staff, (r) => r.url().endsWith('/api/admin/campaigns') && r.request().method() === 'POST', what);
  await form.locator('button[type=submit]').click();
  const res = await answered;
  const key = await res.request().headerValue('idempotency-key');
  expect(/^[0-9a-f-]{32,36}$/.test(key || ''), `${what}: Idempotency-Key ${JSON.stringify(key)}`);
  return { res, key };
}

// ---------------------------------------------------------------- a senior, and staff create an offer
await flow(async () => {
  await step(phone, 'senior-joins-with-marketing-consent', async () => {
    await phone.goto(base + '/');
    const r = await call(phone, 'POST', '/api/signup', {
      code: joinCode, name: SENIOR.name, phone: SENIOR.phone, birthYear: SENIOR.birthYear, gender: 'female', interests: [],
      consents: { service: true, health: true, marketing: true }, acceptCovenant: true,
    });
    expect(r.status === 201 && r.data && r.data.memberId, `POST /api/signup: ${r.status} ${JSON.stringify(r.data)}`);
    memberId = r.data.memberId;
    const { code } = await outboxCode(memberId);
    const v = await call(phone, 'POST', '/api/signup/verify', { memberId, otp: code });
    expect(v.status === 200, `POST /api/signup/verify: ${v.status} ${JSON.stringify(v.data)}`);
    // Quiet hours away from now: a run at night must not wait for the morning.
    const q = { start: shanghai(Date.now() + 2 * 3600_000).at, end: shanghai(Date.now() + 3 * 3600_000).at };
    const p = await call(phone, 'PATCH', '/api/me', { quietHours: q });
    expect(p.status === 200, `PATCH /api/me quiet hours ${JSON.stringify(q)}: ${p.status} ${JSON.stringify(p.data)}`);
  });

  await step(staff, 'staff-sign-in', async () => {
    const res = await staff.goto(base + '/admin/campaigns');
    expect(res && res.status() === 200, `GET /admin/campaigns: status ${res && res.status()}`);
    expect(/noindex/.test(res.headers()['x-robots-tag'] || ''), 'no noindex');
    await staff.locator('#token').fill(opt.token);
    await staff.locator('#token-form button[type=submit]').click();
    await text(staff.locator('#campaigns-status'), T(zh, 'page.staffCampaigns.list_empty'), 'no campaigns yet');
    await staff.locator('#c-groups label', { hasText: SEEDED_GROUP }).waitFor();
    await onePrimary(staff);
  });

  await step(staff, 'staff-body-counter', async () => {
    await text(staff.locator('#c-body-help'), T(zh, 'page.staffCampaigns.body_help_sms', { n: 45 }), 'why 45, for an SMS');
    await form.locator('input[name="title"]').fill(TITLE);
    await form.locator('textarea[name="body"]').fill(LONG);
    await text(staff.locator('#c-count'), T(zh, 'page.staffCampaigns.count_over', { n: 1, max: 45 }), 'one too many');
    // A call carries more, and says so.
    await form.locator('label.chip', { hasText: T(zh, 'page.staffCampaigns.ch_voice') }).click();
    await text(staff.locator('#c-count'), T(zh, 'page.staffCampaigns.count', { n: 46, max: 120 }), 'fits a call');
    await text(staff.locator('#c-body-help'), T(zh, 'page.staffCampaigns.body_help_voice', { n: 120 }), 'why 120, for a call');
    await form.locator('label.chip', { hasText: T(zh, 'page.staffCampaigns.ch_sms') }).click();
    await form.locator('textarea[name="body"]').fill(BODY);
    await text(staff.locator('#c-count'), T(zh, 'page.staffCampaigns.count', { n: [...BODY].length, max: 45 }), 'fits an SMS');
  });

  await step(staff, 'staff-error-by-its-field', async () => {
    await fillOffer();
    // No group chosen: the API refuses, and its message shows by the groups.
    const { res } = await create('POST campaign without a group');
    expect(res.status() === 400, `POST /api/admin/campaigns without a group: ${res.status()} ${await res.text()}`);
    const { error } = await res.json();
    expect(error && error.field === 'audience.groups' && error.message, `error: ${JSON.stringify(error)}`);
    await text(fieldError('audience.groups'), error.message, 'the message, by the groups');
    expect(await staff.locator('#create-error').isHidden(), 'the error also shows above the button');
  });

  await step(staff, 'staff-creates-promotion', async () => {
    await form.locator('#c-groups label', { hasText: SEEDED_GROUP }).click();
    const { res } = await create('POST campaign');
    expect(res.status() === 201, `POST /api/admin/campaigns: ${res.status()} ${await res.text()}`);
    campaign = await res.json();
    const sent = JSON.parse(res.request().postData() || '{}');
    expect(sent.kind === 'promotion' && sent.channel === 'sms' && !sent.sendAt && sent.days === undefined, `sent ${JSON.stringify(sent)}`);
    expect(JSON.stringify(sent.offer.prices) === JSON.stringify({ member: 1990, leader: 1590, partner: 990 }), `prices in fen: ${JSON.stringify(sent.offer.prices)}`);
    expect(sent.audience.groups.length === 1 && sent.offer.pickupPlace === PLACE, `audience/offer: ${JSON.stringify(sent)}`);
    expect(new Date(sent.offer.pickupUntil) > new Date(sent.offer.pickupFrom), `pickup window: ${JSON.stringify(sent.offer)}`);
    await text(staff.locator('#create-ok'), T(zh, 'page.staffCampaigns.created', { title: TITLE }), 'created');
    await text(row(TITLE).locator('.c-title'), TITLE, 'listed');
    const states = ['scheduled', 'sending', 'sent'].map((s) => reEscape(T(zh, 'page.staffCampaigns.st_' + s)));
    await text(row(TITLE).locator('.c-status'), new RegExp('^(' + states.join('|') + ')$'), 'its status');
    await text(row(TITLE).locator('.c-facts'), `${T(zh, 'page.staffCampaigns.kind_promotion')} · ${T(zh, 'page.staffCampaigns.ch_sms')}`, 'kind and channel');
  });
});

// ---------------------------------------------------------------- the senior's phone
await flow(async () => {
  expect(campaign, 'no campaign was created');

  await step(phone, 'offer-sent-to-outbox', async () => {
    const m = await outboxOffer(memberId);
    const u = new URL(m.link || '', base);
    expect(/^\/o\/[a-z2-9]{20}$/.test(u.pathname), `offer link: ${JSON.stringify(m.link)}`);
    expect(m.channel === 'sms', `channel ${m.channel}`);
    link = u.pathname;
    console.log(`     the SMS: ${JSON.stringify(m.text)} ${m.link}`);
  });

  // The link opened from the SMS, on a phone that never signed in.
  const sms = await newPage(zh);
  // What 听一听 hands the phone's voice, as it hands it.
  await sms.addInitScript(() => {
    window.__spoken = [];
    if (window.speechSynthesis) {
      const speak = speechSynthesis.speak.bind(speechSynthesis);
      speechSynthesis.speak = (u) => { window.__spoken.push(u.text); speak(u); };
    }
  });
  let offer = null;
  await step(sms, 'offer-page-two-taps', async () => {
    const taps = [];
    const loaded = response(sms, (r) => r.url().endsWith('/api' + link) && r.request().method() === 'GET', 'GET offer');
    const res = await sms.goto(base + link);
    expect(res && res.status() === 200, `GET ${link}: status ${res && res.status()}`);
    expect(res.headers()['referrer-policy'] === 'no-referrer', `referrer-policy: ${res.headers()['referrer-policy']}`);
    expect(/noindex/.test(res.headers()['x-robots-tag'] || ''), 'no noindex');
    const api = await loaded;
    expect(api.status() === 200, `GET /api${link}: ${api.status()} ${await api.text()}`);
    offer = await api.json();
    expect(offer.tier === 'member' && offer.price === 1990 && offer.priceText === '¥19.90' && !offer.unsubscribed,
      `offer: ${JSON.stringify(offer)}`);
    await text(sms.locator('#title'), TITLE, 'the title, largest');
    await text(sms.locator('#body'), BODY, 'the body');
    await text(sms.locator('#who'), T(zh, 'page.offer.for', { name: SENIOR.name }), 'whose');
    await text(sms.locator('#price-label'), T(zh, 'page.offer.your_price', { tier: T(zh, 'page.offer.tier_member') }), 'your price, by tier');
    await text(sms.locator('#price'), '¥19.90', 'the price');
    await text(sms.locator('#pickup'), T(zh, 'page.offer.pickup', { place: PLACE, when: offer.pickupText }), 'where and when');
    const px = await sms.locator('#price').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    expect(px >= 32, `the price is ${px}px`);
    expect(await sms.locator('#ended').isHidden(), 'an open offer says it has ended');
    await onePrimary(sms);
    await sizes(sms);

    await sms.locator('#listen').tap();
    taps.push(T(zh, 'page.rem.listen'));
    const spoken = await sms.evaluate(() => window.__spoken);
    console.log(`     听一听 spoke: ${spoken.length ? JSON.stringify(spoken[0]) : '(this chromium has no speech synthesis)'}`);
    if (spoken.length) {
      expect(spoken[0] === offer.speak, `spoke ${JSON.stringify(spoken[0])}, want ${JSON.stringify(offer.speak)}`);
      await text(sms.locator('#listen'), new RegExp('^(' + reEscape(T(zh, 'page.rem.listen')) + '|' + reEscape(T(zh, 'page.rem.stop')) + ')$'), 'listen');
    } else {
      await text(sms.locator('#listen-error'), T(zh, 'page.rem.no_voice'), 'no voice on this phone');
    }

    const answered = response(sms, (r) => r.url().endsWith('/api' + link + '/unsubscribe') && r.request().method() === 'POST', 'POST unsubscribe');
    await sms.locator('#unsub').tap();
    taps.push(T(zh, 'page.offer.unsub'));
    const r = await answered;
    expect(r.status() === 200, `POST unsubscribe: ${r.status()} ${await r.text()}`);
    expect((await r.json()).unsubscribed === true, 'unsubscribed: not true');
    await text(sms.locator('#unsub-done'), new RegExp(reEscape(T(zh, 'page.offer.unsubscribed')) + '\\s+' +
      reEscape(T(zh, 'page.offer.unsubscribed_health'))), 'the confirmation, health reminders unaffected');
    expect(await sms.locator('#unsub').isHidden(), 'the unsubscribe button still shows');
    const confirmPx = await sms.locator('#unsub-done .huge').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    expect(confirmPx >= 30, `the confirmation is ${confirmPx}px`);
    console.log(`     taps from opening /o/<token> to unsubscribed: ${taps.length} (${taps.join(', ')})`);
    expect(taps.length <= 2, `${taps.length} taps`);
    await sizes(sms);
  });

  await step(sms, 'offer-page-remembers', async () => {
    await sms.reload();
    await text(sms.locator('#unsub-done .huge'), T(zh, 'page.offer.unsubscribed'), 'unsubscribed, on opening again');
    expect(await sms.locator('#unsub').isHidden(), 'the unsubscribe button shows again');
    await sms.goto(base + link + '?lang=en');
    await text(sms.locator('#price-label'), T(en, 'page.offer.your_price', { tier: T(en, 'page.offer.tier_member') }), 'in English');
    await text(sms.locator('#unsub-done .huge'), T(en, 'page.offer.unsubscribed'), 'unsubscribed, in English');
    await text(sms.locator('#listen'), T(en, 'page.rem.listen'), 'Listen');
  });
});

// ---------------------------------------------------------------- staff see the figures, and cancel
await flow(async () => {
  expect(campaign, 'no campaign was created');

  await step(staff, 'staff-refresh-while-sending', async () => {
    // The campaign has usually finished sending by now, so its first read answers "sending" (the
    // rest of it as the API sent it): the page must read it again 5 s later, and then stop.
    const url = base + '/api/admin/campaigns/' + campaign.id;
    const reads = [];
    const count = (r) => { if (r.url() === url && r.method() === 'GET') { reads.push(Date.now()); } };
    staff.on('request', count);
    await staff.route(url, async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      await route.fulfill({ response: res, json: { ...body, status: 'sending' } });
    }, { times: 1 });
    await row(TITLE).locator('.c-open').click();
    await text(staff.locator('#d-title'), TITLE, 'the campaign');
    await text(staff.locator('#d-state'), new RegExp('^' + reEscape(T(zh, 'page.staffCampaigns.st_sending')) + ' · '), 'sending');
    await text(staff.locator('#d-status'), T(zh, 'page.staffCampaigns.auto'), 'says it refreshes');
    expect(await staff.locator('#d-cancel-box').isVisible(), 'no cancel while sending');
    const focused = await staff.evaluate(() => document.activeElement && document.activeElement.id);
    await staff.waitForResponse((r) => r.url() === url && reads.length >= 2, { timeout: 8000 })
      .catch(() => { throw new Failed(`no second read within 8 s (${reads.length} reads)`); });
    staff.off('request', count);
    const gap = reads[1] - reads[0];
    expect(gap >= 4500 && gap <= 7000, `read again after ${gap} ms, want about 5000`);
    await text(staff.locator('#d-state'), new RegExp('^' + reEscape(T(zh, 'page.staffCampaigns.st_sent')) + ' · '), 'sent, in place');
    expect(await staff.locator('#d-status').isHidden(), 'still says it refreshes');
    const still = await staff.evaluate(() => document.activeElement && document.activeElement.id);
    expect(still === focused, `the refresh moved the focus from #${focused} to #${still}`);
  });

  await step(staff, 'staff-sees-figures', async () => {
    await text(staff.locator('#d-title'), TITLE, 'the campaign');
    await staff.waitForURL(new RegExp('\\?id=' + reEscape(campaign.id) + '$'));
    await text(stat('audience').first(), /^\d+$/, 'the figures');
    const deadline = Date.now() + STATS_WAIT;
    let got = {};
    for (;;) {
      for (const k of ['sent', 'opened', 'unsubscribed']) { got[k] = Number(await stat(k).innerText()); }
      if (got.sent >= 1 && got.opened === 1 && got.unsubscribed === 1) { break; }
      if (Date.now() > deadline) { throw new Failed(`figures: ${JSON.stringify(got)}, want sent ≥ 1, opened 1, unsubscribed 1`); }
      // A sending campaign refreshes itself every 5 s; a sent one when asked.
      if (!(await staff.locator('#d-status').innerText()).trim()) { await staff.locator('#d-refresh').click(); }
      await staff.waitForTimeout(1000);
    }
    const states = [T(zh, 'page.staffCampaigns.st_sending'), T(zh, 'page.staffCampaigns.st_sent')].map(reEscape);
    await text(staff.locator('#d-state'), new RegExp('^(' + states.join('|') + ') · '), 'sending or sent');
    for (const r of ['budget', 'no_consent', 'opted_out', 'unverified', 'channel', 'quota']) {
      await text(staff.locator(`#d-suppressed tr[data-stat="${r}"] th`), T(zh, 'page.staffCampaigns.sup_' + r), 'reason ' + r);
    }
  });

  await step(staff, 'staff-refresh-stops-when-sent', async () => {
    // Once it is sent the figures stop refreshing: no request in two of its periods.
    const deadline = Date.now() + STATS_WAIT;
    while (!(await staff.locator('#d-state').innerText()).startsWith(T(zh, 'page.staffCampaigns.st_sent'))) {
      if (Date.now() > deadline) { throw new Failed(`still ${await staff.locator('#d-state').innerText()}`); }
      await staff.waitForTimeout(1000);
    }
    expect(await staff.locator('#d-cancel-box').isHidden(), 'a sent campaign offers cancel');
    let reads = 0;
    const count = (r) => { if (r.url().endsWith('/api/admin/campaigns/' + campaign.id)) { reads++; } };
    staff.on('request', count);
    await staff.waitForTimeout(11_000);
    staff.off('request', count);
    expect(reads === 0, `${reads} reads of a sent campaign in 11 s`);
  });

  await step(staff, 'staff-cancels-scheduled', async () => {
    await staff.locator('#back').click();
    await row(TITLE).waitFor();
    const tomorrow = shanghai(Date.now() + 24 * 3600_000).date;
    await form.locator('input[name="title"]').fill(LATER_TITLE);
    await form.locator('textarea[name="body"]').fill(BODY);
    await form.locator('#c-groups label', { hasText: SEEDED_GROUP }).click();
    await fillOffer();
    await form.locator('label.chip', { hasText: T(zh, 'page.staffCampaigns.send_later') }).click();
    await form.locator('input[name="sendDate"]').fill(tomorrow);
    await form.locator('input[name="sendTime"]').fill('10:00');
    const { res } = await create('POST scheduled campaign');
    expect(res.status() === 201, `POST /api/admin/campaigns (tomorrow): ${res.status()} ${await res.text()}`);
    const later = await res.json();
    expect(later.status === 'scheduled', `status ${later.status}`);
    await text(row(LATER_TITLE).locator('.c-status'), T(zh, 'page.staffCampaigns.st_scheduled'), 'scheduled');
    await row(LATER_TITLE).locator('.c-open').click();
    await text(staff.locator('#d-title'), LATER_TITLE, 'the scheduled campaign');
    const cancel = staff.locator('#d-cancel');
    let posted = 0;
    const count = (r) => { if (r.url().endsWith('/cancel')) { posted++; } };
    staff.on('request', count);
    await cancel.click();
    await text(cancel, T(zh, 'page.staffCampaigns.cancel_confirm'), 'asks first');
    expect(posted === 0, 'the first tap cancelled');
    staff.off('request', count);
    const answered = response(staff, (r) => r.url().endsWith(`/api/admin/campaigns/${later.id}/cancel`) && r.request().method() === 'POST', 'POST cancel');
    await cancel.click();
    const r = await answered;
    expect(r.status() === 200, `POST cancel: ${r.status()} ${await r.text()}`);
    await text(staff.locator('#d-ok'), T(zh, 'page.staffCampaigns.cancelled_ok'), 'cancelled');
    await text(staff.locator('#d-state'), new RegExp('^' + reEscape(T(zh, 'page.staffCampaigns.st_cancelled')) + ' · '), 'its status');
    expect(await staff.locator('#d-cancel-box').isHidden(), 'cancel still shows');
    await staff.locator('#back').click();
    await text(row(LATER_TITLE).locator('.c-status'), T(zh, 'page.staffCampaigns.st_cancelled'), 'cancelled, in the list');
  });
});

await h.finish();
