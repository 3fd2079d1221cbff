// reminders.mjs drives the reminder pages in a real browser — Debian's chromium through
// playwright-core, a phone inside WeChat — the way the three kinds of user meet a reminder:
//
//   - a senior joins, verifies and, on "my page", adds a daily medication reminder ("每天 上午8:00"),
//     then a one-off due in a minute or two;
//   - the daily one's page (/r/<token>, the SMS link) opened before anything was sent: the text,
//     the time, "听一听", and "收到" answers kindly that there is nothing to confirm yet;
//   - the senior makes a helper family link (alerts to a phone number); the daughter opens it on
//     her phone, sees her mother's reminders, records a clip (chromium's fake microphone), listens
//     back and saves a reminder in her own voice (presign → PUT → create with the clip); opened
//     again, the page's Listen plays that clip from its presigned URL, to the end;
//   - the one-off is sent by the dispatcher to the local outbox; its link, opened on a fresh phone,
//     takes one tap on "收到" to "好的，已收到" — the taps are counted and printed;
//   - staff open /admin/reminders with a token: the queues and their dead-letter depth, the
//     senior's reminders with the one-off's delivery status, and the outbox; they record a clip
//     and save a reminder in their own voice for her, pause and resume it, cancel it (two taps),
//     and broadcast one to her group.
//
//	node web/e2e/reminders.mjs --base http://127.0.0.1:PORT --token JWT --join-code CODE --out DIR
//
// --token is a staff token of the demo store (to read the outbox as a phone would receive the
// texts), --join-code the seeded demo group's join code. It prints one line per check, the taps
// and a summary ("reminders e2e: 9 passed, 0 failed"); exits 1 if any check failed. A full-page
// screenshot of every step goes to DIR. cmd/local/e2e_test.go runs it with the dispatcher ticking
// every few seconds (make test).
import { open } from './harness.mjs';

// A fake microphone (a beep) that needs no permission prompt: what a relative's phone (or the
// staff's computer) records.
const h = await open('reminders', { args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'] });
const {
  opt, base, joinCode, T, TIMEOUT, Failed, expect, reEscape, text, outboxCode, newPage, step, flow,
  fillForm, submit, onePrimary, sizes,
} = h;

const zh = 'zh-CN';
const en = 'en';

// How long the one-off may take from due to the outbox: it is due at the next minute or the one
// after, and the dispatcher and sender run every few seconds under the test.
const SENT_WITHIN = 150_000;

// shanghai returns the local date and time in China of the instant ms.
function shanghai(ms) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, at: `${p.hour}:${p.minute}` };
}

// addReminder fills the add-a-reminder form on page and saves it; it returns the reminder the
// API created.
async function addReminder(page, path, { kind, text: words, at, freq, date }) {
  const form = page.locator('#rem-form');
  await form.locator(`input[name="kind"][value="${kind}"]`).check();
  await form.locator('textarea[name="text"]').fill(words);
  await form.locator('input[name="at"]').fill(at);
  await form.locator(`input[name="freq"][value="${freq}"]`).check();
  if (date) { await form.locator('input[name="start"]').fill(date); }
  const answered = response(page, (r) => r.url().endsWith(path) && r.request().method() === 'POST', 'POST ' + path);
  await page.locator('#rem-save').tap();
  const res = await answered;
  expect(res.status() === 201, `POST ${path}: status ${res.status()}: ${await res.text()}`);
  return res.json();
}

// response waits for the response pred picks, failing with what when none comes; it is awaited
// later, so it must never become an unhandled rejection meanwhile.
function response(page, pred, what) {
  const p = page.waitForResponse(pred).catch((e) => { throw new Failed(`${what}: no response (${e.message.split('\n')[0]})`); });
  p.catch(() => {});
  return p;
}

// rowOf is the list entry of the reminder whose text is words.
const rowOf = (page, words) => page.locator('#rem-list > li').filter({
  has: page.locator('.r-text', { hasText: new RegExp('^' + reEscape(words) + '$') }),
});

const who = { name: '王秀兰', phone: '136 0013 6000', birthYear: '1949' };
const PILL = '吃一片降压药';
const CALL = '下午记得去社区医院复查';
const VOICE = '妈，记得量血压';
const STAFF_VOICE = '王阿姨，明早九点半来店里量血压';
let daily = null;
let oneOff = null;
let memberId = '';

// ---------------------------------------------------------------- the senior: my reminders
await flow(async () => {
  const senior = await newPage(zh);

  await step(senior, 'senior-signs-in', async () => {
    const res = await senior.goto(base + '/join/' + joinCode);
    expect(res && res.status() === 200, `GET /join/${joinCode}: status ${res && res.status()}`);
    await fillForm(senior, zh, who);
    memberId = await submit(senior);
    const { code } = await outboxCode(memberId);
    await senior.locator('#otp').fill(code);
    await senior.locator('#otp-submit').tap();
    await senior.waitForURL(base + '/me', { timeout: TIMEOUT });
    // Quiet hours away from now: a run in the evening must not hold the one-off till morning.
    const q = { start: shanghai(Date.now() + 2 * 3600_000).at, end: shanghai(Date.now() + 3 * 3600_000).at };
    const p = await senior.evaluate(async (quietHours) => {
      const r = await fetch('/api/me', { method: 'PATCH', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ quietHours }) });
      return r.status;
    }, q);
    expect(p === 200, `PATCH /api/me quiet hours ${JSON.stringify(q)}: status ${p}`);
    await senior.reload();
    await text(senior.locator('#rem-h'), T(zh, 'page.me.rem_heading'), 'my reminders heading');
    await text(senior.locator('#rem-empty'), T(zh, 'page.rem.empty'), 'no reminders yet');
    await onePrimary(senior);
    await sizes(senior);
  });

  await step(senior, 'add-screen', async () => {
    await senior.locator('#rem-open').tap();
    await text(senior.locator('#rem-add-h'), T(zh, 'page.me.rem_add_heading'), 'add screen');
    expect(await senior.locator('#me').isHidden(), 'my page still shows behind the add screen');
    // The form asks before it sends: no words yet.
    await senior.locator('#rem-form textarea[name="text"]').fill('');
    await senior.locator('#rem-save').tap();
    await text(senior.locator('#rem-form-error'), T(zh, 'page.rem.text_missing'), 'words missing');
    await onePrimary(senior);
    await sizes(senior);
  });

  await step(senior, 'daily-added', async () => {
    daily = await addReminder(senior, '/api/me/reminders', { kind: 'medication', text: PILL, at: '08:00', freq: 'daily' });
    expect(daily.rule && daily.rule.freq === 'daily', `rule: ${JSON.stringify(daily.rule)}`);
    expect(/\/r\/[A-Za-z0-9_-]{22}$/.test(daily.link || ''), `link: ${daily.link}`);
    const row = rowOf(senior, PILL);
    await text(row.locator('.r-rule'), T(zh, 'page.rem.rule_daily', { time: '上午8:00' }), 'said in words');
    await text(row.locator('.r-kind'), T(zh, 'page.rem.kind_medication'), 'kind');
    await text(row.locator('.r-next'), new RegExp('^' + reEscape(T(zh, 'page.rem.next', { when: '' })) + '\\d+月\\d+日 周. 上午8:00$'), 'next time');
    await text(senior.locator('#rem-status'), T(zh, 'page.rem.saved'), 'saved');
    await onePrimary(senior);
    await sizes(senior);
  });

  await step(senior, 'pause-resume-cancel', async () => {
    const row = rowOf(senior, PILL);
    await row.locator('.r-listen').waitFor();
    await row.locator('.r-pause').tap();
    await text(row.locator('.r-paused'), T(zh, 'page.rem.paused'), 'paused');
    await text(row.locator('.r-pause'), T(zh, 'page.rem.resume'), 'resume button');
    await row.locator('.r-pause').tap();
    await row.locator('.r-paused').waitFor({ state: 'hidden' });
    // A throwaway weekly reminder — the form asks for its days first — cancelled with two taps.
    await senior.locator('#rem-open').tap();
    const form = senior.locator('#rem-form');
    await form.locator('input[name="kind"][value="custom"]').check();
    await form.locator('textarea[name="text"]').fill('买菜');
    await form.locator('input[name="at"]').fill('17:30');
    await form.locator('input[name="freq"][value="weekly"]').check();
    await senior.locator('#rem-save').tap();
    await text(senior.locator('#rem-form-error'), T(zh, 'page.rem.days_missing'), 'days missing');
    for (const d of ['1', '3', '5']) { await form.locator(`input[name="wd"][value="${d}"]`).check(); }
    const answered = response(senior, (r) => r.url().endsWith('/api/me/reminders') && r.request().method() === 'POST', 'POST /api/me/reminders');
    await senior.locator('#rem-save').tap();
    const made = await answered;
    expect(made.status() === 201, `weekly reminder: status ${made.status()}: ${await made.text()}`);
    const shop = rowOf(senior, '买菜');
    await text(shop.locator('.r-rule'), T(zh, 'page.rem.rule_weekly', { days: '一、三、五', time: '下午5:30' }), 'weekly in words');
    await shop.locator('.r-cancel').tap();
    await text(shop.locator('.r-cancel'), T(zh, 'page.rem.cancel_confirm'), 'cancel asks first');
    const gone = response(senior, (r) => r.url().includes('/api/me/reminders/') && r.request().method() === 'DELETE', 'DELETE the reminder');
    await shop.locator('.r-cancel').tap();
    const res = await gone;
    expect(res.status() === 204 || res.status() === 200, `DELETE reminder: status ${res.status()}`);
    await shop.waitFor({ state: 'detached' });
    await sizes(senior);
  });

  await step(senior, 'one-off-added', async () => {
    // Due at the next minute, or the one after when this one is nearly over.
    const now = Date.now();
    const due = shanghai(now + (new Date(now).getSeconds() > 40 ? 120_000 : 60_000));
    await senior.locator('#rem-open').tap();
    oneOff = await addReminder(senior, '/api/me/reminders', { kind: 'checkup', text: CALL, at: due.at, freq: 'once', date: due.date });
    expect(oneOff.status === 'active' && oneOff.nextAt, `one-off: ${JSON.stringify(oneOff)}`);
    await rowOf(senior, CALL).waitFor();
  });

  await step(senior, 'english', async () => {
    await senior.goto(base + '/me?lang=en');
    await text(senior.locator('#rem-h'), T(en, 'page.me.rem_heading'), 'heading in English');
    await text(rowOf(senior, PILL).locator('.r-rule'), T(en, 'page.rem.rule_daily', { time: '8:00 AM' }), 'daily in English');
    await text(rowOf(senior, PILL).locator('.r-listen'), T(en, 'page.rem.listen'), 'Listen');
  });
});

// ---------------------------------------------------------------- the reminder page, nothing sent yet
await flow(async () => {
  expect(daily, 'no daily reminder to open');
  const phone = await newPage(zh);
  await step(phone, 'page-before-sending', async () => {
    const res = await phone.goto(daily.link);
    expect(res && res.status() === 200, `GET ${daily.link}: status ${res && res.status()}`);
    const hd = res.headers();
    expect(hd['referrer-policy'] === 'no-referrer', `referrer-policy: ${hd['referrer-policy']}`);
    expect(/noindex/.test(hd['x-robots-tag'] || ''), `x-robots-tag: ${hd['x-robots-tag']}`);
    await text(phone.locator('#text'), PILL, 'the words, large');
    await text(phone.locator('#when'), /^\d+月\d+日 周. 上午8:00$/, 'when, in China time');
    await text(phone.locator('#listen'), T(zh, 'page.rem.listen'), 'listen button');
    const px = await phone.locator('#text').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    expect(px >= 32, `the words are ${px}px`);
    await onePrimary(phone);
    await sizes(phone);
  });

  await step(phone, 'done-before-sending', async () => {
    await phone.locator('#listen').tap();
    // The server's voice (espeak-ng locally, Polly in AWS) when it has one, else the phone's own.
    const heard = await phone.locator('#audio').evaluate((a) => new Promise((ok) => {
      if (!a.getAttribute('src')) { ok('the phone\'s own voice (no audio URL)'); return; }
      const t = setTimeout(() => ok(`audio not playing after 5 s (error ${a.error && a.error.code})`), 5000);
      const played = () => { clearTimeout(t); ok('the server\'s audio, ' + a.duration.toFixed(1) + ' s'); };
      if (a.currentTime > 0) { played(); return; }
      a.addEventListener('playing', played);
      a.addEventListener('ended', played);
      a.addEventListener('error', () => { clearTimeout(t); ok(`audio error ${a.error && a.error.code}`); });
    }));
    console.log(`     listen: ${heard}`);
    expect(!/error|not playing/.test(heard), `listen: ${heard}`);
    await phone.locator('#done').tap();
    await text(phone.locator('#nothing .huge'), T(zh, 'page.reminder.nothing'), 'nothing to confirm yet');
    const px = await phone.locator('#nothing .huge').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    expect(px >= 28, `the answer is ${px}px`);
    expect(await phone.locator('#done').isHidden(), 'the Done button still shows');
    await sizes(phone);
  });

  await step(phone, 'page-english', async () => {
    await phone.goto(daily.link + '?lang=en');
    await text(phone.locator('#when'), /^[A-Z][a-z]{2}, [A-Z][a-z]+ \d+ at 8:00 AM$/, 'when, in English');
    await text(phone.locator('#done'), T(en, 'page.reminder.done'), 'Done');
  });

  await step(phone, 'unknown-link', async () => {
    await phone.goto(base + '/r/AAAAAAAAAAAAAAAAAAAAAA');
    await text(phone.locator('#gone h1'), T(zh, 'page.reminder.gone_heading'), 'an unknown link, explained');
  });
});

// ---------------------------------------------------------------- the daughter: a reminder in her voice
await flow(async () => {
  const senior = await newPage(zh);
  let url = '';
  await step(senior, 'helper-link', async () => {
    // Her other phone: the same form signs her in again.
    await senior.goto(base + '/join/' + joinCode);
    await fillForm(senior, zh, who);
    const seen = new Set([(await outboxCode(memberId)).id]);
    await senior.locator('#join-submit').tap();
    await senior.locator('#otp').waitFor();
    const { code } = await outboxCode(memberId, seen);
    await senior.locator('#otp').fill(code);
    await senior.locator('#otp-submit').tap();
    await senior.waitForURL(base + '/me', { timeout: TIMEOUT });
    await senior.locator('#link-label').fill('女儿');
    await senior.getByText(T(zh, 'page.me.scope_helper'), { exact: true }).tap();
    expect(await senior.locator('#alert-phone').isHidden(), 'the phone field shows before alerts are asked for');
    await senior.getByText(T(zh, 'page.me.alerts_label'), { exact: true }).tap();
    await senior.locator('#alert-phone').fill('139 1234 5678');
    const answered = response(senior, (r) => r.url().endsWith('/api/me/family-links') && r.request().method() === 'POST', 'POST /api/me/family-links');
    await senior.locator('#link-submit').tap();
    const res = await answered;
    expect(res.status() === 201, `POST /api/me/family-links: status ${res.status()}: ${await res.text()}`);
    expect(JSON.parse(res.request().postData() || '{}').alertPhone === '139 1234 5678', 'alertPhone was not sent');
    url = await text(senior.locator('#created-url'), new RegExp('^' + reEscape(base) + '/f/'), 'the link');
  });

  const daughter = await newPage(zh);
  // Listen plays through an Audio the page keeps to itself: note the element that played.
  await daughter.addInitScript(() => {
    const play = HTMLMediaElement.prototype.play;
    HTMLMediaElement.prototype.play = function () { window.lastPlayed = this; return play.apply(this, arguments); };
  });
  await step(daughter, 'family-sees-reminders', async () => {
    await daughter.goto(url);
    await text(daughter.locator('#rem-h'), T(zh, 'page.family.rem_heading', { name: who.name }), 'her reminders');
    await text(rowOf(daughter, PILL).locator('.r-rule'), T(zh, 'page.rem.rule_daily', { time: '上午8:00' }), 'the daily one');
    await text(daughter.locator('#rem-open'), T(zh, 'page.family.rem_add', { name: who.name }), 'add for her');
    await onePrimary(daughter);
    await sizes(daughter);
  });

  await step(daughter, 'record', async () => {
    await daughter.locator('#rem-open').tap();
    await text(daughter.locator('#rec'), T(zh, 'page.family.rec_start'), 'record button');
    await daughter.locator('#rec').tap();
    await text(daughter.locator('#rec'), T(zh, 'page.family.rec_stop'), 'recording');
    await text(daughter.locator('#rec-status'), new RegExp('^' + reEscape(T(zh, 'page.family.rec_on', { time: '' }))), 'recording status');
    await daughter.waitForTimeout(2000);
    await daughter.locator('#rec').tap();
    await text(daughter.locator('#rec-status'), T(zh, 'page.family.rec_done'), 'recorded');
    await daughter.locator('#rec-play').waitFor();
    const dur = await daughter.locator('#rec-play').evaluate((a) => new Promise((ok) => {
      if (a.readyState >= 1) { ok(a.duration); return; }
      a.addEventListener('loadedmetadata', () => ok(a.duration));
      a.load();
    }));
    expect(dur > 0, `the recording plays back with duration ${dur}`);
    await onePrimary(daughter);
    await sizes(daughter);
  });

  await step(daughter, 'voice-reminder-saved', async () => {
    // The PUT goes from the page straight to the S3 emulator with its presigned URL, preflight and
    // all: cmd/local/emulators/fauxqs.mjs answers CORS as the real bucket's CorsConfiguration does.
    const form = daughter.locator('#rem-form');
    await form.locator('input[name="kind"][value="custom"]').check();
    await form.locator('textarea[name="text"]').fill(VOICE);
    await form.locator('input[name="at"]').fill('20:00');
    const failedPut = [];
    daughter.on('requestfailed', (r) => { if (r.method() === 'PUT') { failedPut.push(`${r.url().split('?')[0]}: ${r.failure() && r.failure().errorText}`); } });
    const presigned = response(daughter, (r) => r.url().endsWith('/voice-uploads') && r.request().method() === 'POST', 'POST voice-uploads');
    const created = response(daughter, (r) => /\/api\/family\/[^/]+\/reminders$/.test(r.url()) && r.request().method() === 'POST', 'POST family reminder');
    await daughter.locator('#rem-save').tap();
    const p = await presigned;
    expect(p.status() === 200 || p.status() === 201, `POST voice-uploads: ${p.status()}: ${await p.text()}`);
    // The clip goes straight to the bucket; the reminder is created only once it is there.
    const c = await Promise.race([created, daughter.locator('#rem-form-error').waitFor({ state: 'visible', timeout: TIMEOUT }).then(() => null)]);
    expect(c, `not saved: "${await daughter.locator('#rem-form-error').innerText().catch(() => '')}"; failed PUTs: ${failedPut.join('; ') || 'none'}`);
    expect(c.status() === 201, `POST family reminder: ${c.status()}: ${await c.text()}`);
    const sent = JSON.parse(c.request().postData() || '{}');
    expect(sent.clipKey && sent.clipKey === (await p.json()).clipKey, `the reminder names clip ${sent.clipKey}`);
    const body = await c.json();
    expect(body.hasClip === true && body.createdVia === 'family', `created: ${JSON.stringify(body)}`);
    await text(rowOf(daughter, VOICE).locator('.r-rule'), T(zh, 'page.rem.rule_daily', { time: '下午8:00' }), 'her reminder in the list');
    await text(daughter.locator('#rem-status'), T(zh, 'page.rem.saved'), 'saved');
    await sizes(daughter);
  });

  await step(daughter, 'family-listens-to-clip', async () => {
    // The family page gets no reminder page link (it could answer "收到"): a reminder with a clip
    // carries the clip's own presigned URL, a text one none (the phone reads its words).
    const listed = response(daughter, (r) => /\/api\/family\/[^/]+\/reminders$/.test(r.url()) && r.request().method() === 'GET', 'GET family reminders');
    await daughter.reload();
    const { reminders = [] } = await (await listed).json();
    const voiced = reminders.find((r) => r.text === VOICE);
    const pill = reminders.find((r) => r.text === PILL);
    expect(voiced && /^https?:\/\/.*clips\//.test(voiced.audioUrl || '') && !voiced.link, `the clip reminder: ${JSON.stringify(voiced)}`);
    expect(pill && !pill.audioUrl, `the text reminder: ${JSON.stringify(pill)}`);
    const listen = rowOf(daughter, VOICE).locator('.r-listen');
    await listen.tap();
    const heard = await daughter.evaluate(() => new Promise((ok) => {
      const a = window.lastPlayed;
      if (!a) { ok({ why: 'no audio played' }); return; }
      const t = setTimeout(() => ok({ why: `not played to the end within 8 s (error ${a.error && a.error.code})` }), 8000);
      const end = () => { clearTimeout(t); ok({ src: a.currentSrc, duration: a.duration }); };
      if (a.ended) { end(); return; }
      a.addEventListener('ended', end);
      a.addEventListener('error', () => { clearTimeout(t); ok({ why: `audio error ${a.error && a.error.code}` }); });
    }));
    console.log(`     family listen: ${heard.why || `the recorded clip, ${heard.duration.toFixed(1)} s`}`);
    expect(!heard.why, `listen: ${heard.why}`);
    expect(heard.src === voiced.audioUrl, `played ${heard.src}, not the clip's URL`);
    expect(heard.duration > 0, `the clip played with duration ${heard.duration}`);
    await text(listen, T(zh, 'page.rem.listen'), 'Listen again once it ended');
  });
});

// ---------------------------------------------------------------- the one-off, sent, then "收到"
await flow(async () => {
  expect(oneOff, 'no one-off reminder');
  const phone = await newPage(zh);
  let link = '';
  await step(phone, 'sent-to-outbox', async () => {
    const deadline = Date.now() + SENT_WITHIN;
    let last = '';
    while (Date.now() < deadline && !link) {
      const res = await fetch(base + '/api/admin/outbox?limit=50', { headers: { Authorization: 'Bearer ' + opt.token } });
      last = `status ${res.status}`;
      if (res.status === 200) {
        const { items = [] } = await res.json();
        const m = items.find((it) => it.memberId === memberId && (it.link || '') === oneOff.link);
        if (m) { link = m.link; }
        last = `${items.length} messages, none with ${oneOff.link}`;
      }
      if (!link) { await new Promise((r) => setTimeout(r, 1000)); }
    }
    expect(link, `the one-off (due ${oneOff.nextAt}) was not sent within ${SENT_WITHIN / 1000} s (${last})`);
  });

  await step(phone, 'one-tap-done', async () => {
    const taps = [];
    await phone.goto(link);
    await text(phone.locator('#text'), CALL, 'the words');
    await text(phone.locator('#kind'), new RegExp('^' + reEscape(T(zh, 'page.rem.kind_checkup'))), 'the kind');
    await onePrimary(phone);
    await sizes(phone);
    const answered = response(phone, (r) => r.url().endsWith('/ack') && r.request().method() === 'POST', 'POST ack');
    await phone.locator('#done').tap();
    taps.push(T(zh, 'page.reminder.done'));
    const res = await answered;
    expect(res.status() === 200, `POST ack: status ${res.status()}: ${await res.text()}`);
    await text(phone.locator('#acked .huge'), T(zh, 'page.reminder.acked'), 'got it');
    console.log(`     taps from opening /r/<token> to acknowledged: ${taps.length} (${taps.join(', ')})`);
    expect(taps.length === 1, `${taps.length} taps`);
    // Opened again (a second SMS of the same occurrence): it says so at once.
    await phone.reload();
    await text(phone.locator('#acked .huge'), T(zh, 'page.reminder.acked'), 'still acknowledged');
    expect(await phone.locator('#done').isHidden(), 'Done shows again after the answer');
  });
});

// ---------------------------------------------------------------- staff
await flow(async () => {
  const staff = await newPage(zh);
  await step(staff, 'staff-queues', async () => {
    await staff.goto(base + '/admin/reminders');
    await staff.locator('#token').fill(opt.token);
    await staff.locator('#token-form button[type=submit]').click();
    await staff.locator('#queues > li').first().waitFor();
    const names = await staff.locator('#queues > li').evaluateAll((lis) => lis.map((li) => li.dataset.queue));
    expect(names.length >= 2, `queues: ${names}`);
    const [before, after] = T(zh, 'page.staffrem.dlq').split('{n}');
    await text(staff.locator('#queues > li .q-dlq').first(), new RegExp('^' + reEscape(before) + '\\d+' + reEscape(after) + '$'), 'DLQ depth');
    await text(staff.locator('#outbox-section .notice-line'), T(zh, 'page.staffrem.outbox_local'), 'outbox, marked local');
    await staff.locator('#outbox > li').first().waitFor();
    await onePrimary(staff);
  });

  await step(staff, 'staff-dlq-stands-out', async () => {
    // A dead-letter queue with messages in it cannot be made on demand: the page is shown one.
    const fake = { queues: [{ name: 'deliveries', visible: 2, inFlight: 1, delayed: 0, dlq: { visible: 3 } }] };
    await staff.route('**/api/admin/queues', (route) => route.fulfill({ json: fake }));
    await staff.locator('#refresh').click();
    const dlq = staff.locator('#queues > li[data-queue="deliveries"] .q-dlq');
    await text(dlq, T(zh, 'page.staffrem.dlq', { n: '3' }), 'DLQ depth 3');
    expect(await dlq.evaluate((el) => el.classList.contains('alert')), 'a DLQ with messages does not stand out');
    await staff.unroute('**/api/admin/queues');
    await staff.locator('#refresh').click();
  });

  await step(staff, 'staff-member-reminders', async () => {
    await staff.locator('#member option').nth(1).waitFor({ state: 'attached' });
    const value = await staff.locator('#member option').evaluateAll((os, name) => (os.find((o) => o.textContent.startsWith(name)) || {}).value, who.name);
    expect(value, `${who.name} is not in the member list`);
    await staff.locator('#member').selectOption(value);
    const row = rowOf(staff, CALL);
    await row.waitFor();
    await row.locator('.r-deliv').click();
    await text(row.locator('.r-occ > li').first(), /./, 'delivery status');
    await text(row.locator('.r-occ > li').first(), new RegExp(reEscape(T(zh, 'page.staffrem.attempt', { n: '1' }))), 'the first send');
  });

  await step(staff, 'staff-voice-reminder', async () => {
    // Recorded on the staff's computer, uploaded with a presigned PUT got with the staff token,
    // saved for the member chosen above.
    const form = staff.locator('#add');
    await form.locator('input[name="to"][value="member"]').check();
    await text(staff.locator('#rec'), T(zh, 'page.family.rec_start'), 'record button');
    await staff.locator('#rec').click();
    await text(staff.locator('#rec-status'), new RegExp('^' + reEscape(T(zh, 'page.family.rec_on', { time: '' }))), 'recording');
    await staff.waitForTimeout(1500);
    await staff.locator('#rec').click();
    await text(staff.locator('#rec-status'), T(zh, 'page.family.rec_done'), 'recorded');
    await form.locator('input[name="kind"][value="checkup"]').check();
    await form.locator('textarea[name="text"]').fill(STAFF_VOICE);
    await form.locator('input[name="at"]').fill('09:30');
    await form.locator('input[name="freq"][value="daily"]').check();
    const presigned = response(staff, (r) => r.url().endsWith('/api/admin/voice-uploads') && r.request().method() === 'POST', 'POST /api/admin/voice-uploads');
    const created = response(staff, (r) => /\/api\/admin\/members\/[^/]+\/reminders$/.test(r.url()) && r.request().method() === 'POST', 'POST member reminder');
    await form.locator('button[type=submit]').click();
    const p = await presigned;
    expect(p.status() === 201, `POST voice-uploads: ${p.status()}: ${await p.text()}`);
    expect((p.request().headers().authorization || '').startsWith('Bearer '), 'the presign went without the staff token');
    const c = await Promise.race([created, staff.locator('#add-error').waitFor({ state: 'visible', timeout: TIMEOUT }).then(() => null)]);
    expect(c, `not saved: "${await staff.locator('#add-error').innerText().catch(() => '')}"`);
    expect(c.status() === 201, `POST member reminder: ${c.status()}: ${await c.text()}`);
    const sent = JSON.parse(c.request().postData() || '{}');
    expect(sent.clipKey && sent.clipKey === (await p.json()).clipKey, `the reminder names clip ${sent.clipKey}`);
    const body = await c.json();
    expect(body.hasClip === true && body.createdVia === 'staff', `created: ${JSON.stringify(body)}`);
    await text(staff.locator('#add-ok'), T(zh, 'page.rem.saved'), 'saved');
    await text(rowOf(staff, STAFF_VOICE).locator('.r-kind'), `${T(zh, 'page.rem.kind_checkup')} · ${T(zh, 'page.staffrem.st_active')}`, 'in her list, active');
    expect(await staff.locator('#rec-play').isHidden(), 'the saved clip still shows in the form');
    await onePrimary(staff);
  });

  await step(staff, 'staff-pause-resume-cancel', async () => {
    const row = rowOf(staff, STAFF_VOICE);
    const patched = (status) => response(staff, (r) => /\/api\/admin\/members\/[^/]+\/reminders\/[^/]+$/.test(r.url()) && r.request().method() === 'PATCH', `PATCH ${status}`);
    let res = patched('paused');
    await row.locator('.r-pause').click();
    expect((await res).status() === 200, `pause: ${(await res).status()}`);
    await text(row.locator('.r-paused'), T(zh, 'page.rem.paused'), 'paused');
    await text(row.locator('.r-kind'), new RegExp(reEscape(T(zh, 'page.staffrem.st_paused')) + '$'), 'status paused');
    await text(row.locator('.r-pause'), T(zh, 'page.rem.resume'), 'resume button');
    res = patched('active');
    await row.locator('.r-pause').click();
    expect((await res).status() === 200, `resume: ${(await res).status()}`);
    await text(row.locator('.r-kind'), new RegExp(reEscape(T(zh, 'page.staffrem.st_active')) + '$'), 'status active again');
    await row.locator('.r-paused').waitFor({ state: 'hidden' });
    // Cancelling asks first; the second click cancels, and the reminder stays listed as cancelled.
    await row.locator('.r-cancel').click();
    await text(row.locator('.r-cancel'), T(zh, 'page.rem.cancel_confirm'), 'cancel asks first');
    const gone = response(staff, (r) => /\/api\/admin\/members\/[^/]+\/reminders\/[^/]+$/.test(r.url()) && r.request().method() === 'DELETE', 'DELETE the reminder');
    await row.locator('.r-cancel').click();
    expect((await gone).status() === 204, `cancel: ${(await gone).status()}`);
    await text(row.locator('.r-kind'), new RegExp(reEscape(T(zh, 'page.staffrem.st_cancelled')) + '$'), 'status cancelled');
    expect(await row.locator('.r-pause').isHidden() && await row.locator('.r-cancel').isHidden(), 'a cancelled reminder still offers pause or cancel');
  });

  await step(staff, 'staff-broadcast', async () => {
    const form = staff.locator('#add');
    await form.locator('input[name="to"][value="group"]').check();
    await form.locator('input[name="wecom"]').waitFor();
    await form.locator('input[name="kind"][value="event"]').check();
    await form.locator('textarea[name="text"]').fill('明天上午九点，医生来店里答疑');
    await form.locator('input[name="at"]').fill('09:00');
    await form.locator('input[name="freq"][value="once"]').check();
    await form.locator('input[name="start"]').fill(shanghai(Date.now() + 86_400_000).date);
    const sent = response(staff, (r) => /\/api\/admin\/groups\/[^/]+\/reminders$/.test(r.url()), 'POST group reminders');
    await form.locator('button[type=submit]').click();
    const res = await sent;
    expect(res.status() === 202, `broadcast: ${res.status()}: ${await res.text()}`);
    const { reminders: n, skipped } = await res.json();
    expect(n >= 1, `broadcast made ${n} reminders`);
    await text(staff.locator('#add-ok'), T(zh, 'page.staffrem.bc_done', { n: String(n), skipped: String(skipped) }), 'how many');
    await staff.locator('#bc-check').click();
    await text(staff.locator('#bc-facts dt'), T(zh, 'page.staffrem.bc_deliveries'), 'its deliveries');
    await onePrimary(staff);
  });
});

await h.finish();
