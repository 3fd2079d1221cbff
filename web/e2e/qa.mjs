// qa.mjs drives the doctor Q&A pages in a real browser — Debian's chromium through playwright-core,
// phones inside WeChat — the way a store, two seniors and a daughter use them:
//
//   - staff sign in on /admin/sessions, add a doctor and schedule a talk with one seat that
//     starts in a few minutes (booking open until it starts);
//   - a phone without a session opens /sessions and is told how to get in;
//   - senior A opens /sessions and books with one tap: the confirmation shows in place
//     ("预约好了", reminders set) — the taps are counted and printed;
//   - senior B finds it full, writes a question, records it too (chromium's fake microphone; the
//     clip goes to a presigned upload URL, then the booking names it) and joins the waiting list
//     (number 1);
//   - A finds the booking on "my page", and its booking page (/b/<token>, the SMS link) opened on a
//     phone that is not signed in cancels it with two taps; B is promoted to the seat;
//   - staff give the talk a second seat; A's daughter, on a helper family link, books it again for
//     her mother with a question;
//   - staff open the talk: the booked, the questions (ranked, one marked as a repeat; B's with
//     her recording to play); once the talk has started they mark who came, and open the
//     printable question sheet (one A4 page).
//
//	node web/e2e/qa.mjs --base http://127.0.0.1:PORT --token JWT --join-code CODE --out DIR
//
// --token is a staff token of the demo store (staff pages, and the codes texted to the seniors in
// the local outbox), --join-code the seeded demo group's join code. It prints one line per check,
// the taps and a summary ("qa e2e: 12 passed, 0 failed"); exits 1 if any check failed. A
// full-page screenshot of every step goes to DIR. cmd/local/qa_e2e_test.go runs it (make test).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { open } from './harness.mjs';

// A fake microphone, granted without asking: B records her question.
const h = await open('qa', { args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'] });
const {
  opt, base, joinCode, T, TIMEOUT, Failed, expect, reEscape, text, outboxCode, newPage, step, flow,
  onePrimary, sizes,
} = h;

const zh = 'zh-CN';
const en = 'en';

const TITLE = '冬季血压管理';
const DOCTOR = { name: '王慧敏', title: '副主任医师', speciality: '老年科' };
const Q_B = '饭后血压高怎么办？';
const Q_FAMILY = '妈妈夜里总醒，降压药晚上吃可以吗？';
const A = { name: '王秀兰', phone: '136 0013 6101', birthYear: 1948 };
const B = { name: '李桂芳', phone: '136 0013 6102', birthYear: 1951 };

// shanghai returns the local date and time in China of the instant ms.
function shanghai(ms) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, at: `${p.hour}:${p.minute}` };
}

// response waits for the response pred picks, failing with what when none comes; it is awaited
// later, so it must never become an unhandled rejection meanwhile.
function response(page, pred, what) {
  const p = page.waitForResponse(pred).catch((e) => { throw new Failed(`${what}: no response (${e.message.split('\n')[0]})`); });
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

// signUp joins the demo group as who on page's phone and verifies with the code from the outbox:
// the join page's two requests, without its form (join.mjs drives that). It returns the member id.
async function signUp(page, who) {
  if (!page.url().startsWith(base)) { await page.goto(base + '/'); }
  const r = await call(page, 'POST', '/api/signup', {
    code: joinCode, name: who.name, phone: who.phone, birthYear: who.birthYear, gender: 'female', interests: [],
    consents: { service: true, health: true, marketing: false }, acceptCovenant: true,
  });
  expect(r.status === 201 && r.data && r.data.memberId, `POST /api/signup: ${r.status} ${JSON.stringify(r.data)}`);
  const { code } = await outboxCode(r.data.memberId);
  const v = await call(page, 'POST', '/api/signup/verify', { memberId: r.data.memberId, otp: code });
  expect(v.status === 200, `POST /api/signup/verify: ${v.status} ${JSON.stringify(v.data)}`);
  return r.data.memberId;
}

const card = (page) => page.locator('#ses-list > li').filter({ has: page.locator('.s-title', { hasText: TITLE }) });
const staffRow = (page) => page.locator('#sessions > li').filter({ hasText: TITLE });

let session = null; // as staff created it
let startMs = 0;
let link = ''; // A's booking page
const ids = {}; // member ids by name

const staff = await newPage(zh, { viewport: { width: 1024, height: 900 }, isMobile: false, hasTouch: false });
const phoneA = await newPage(zh);
const phoneB = await newPage(zh);

// ---------------------------------------------------------------- staff schedule a talk
await flow(async () => {
  await step(staff, 'staff-sign-in', async () => {
    const res = await staff.goto(base + '/admin/sessions');
    expect(res && res.status() === 200, `GET /admin/sessions: status ${res && res.status()}`);
    await staff.locator('#token').fill(opt.token);
    await staff.locator('#token-form button[type=submit]').click();
    await text(staff.locator('#sessions-status'), T(zh, 'page.staffSessions.sessions_empty'), 'no talks yet');
    // The seeded doctor is listed, and offered for a talk.
    await staff.locator('#doctors > li', { hasText: '李建国' }).waitFor();
  });

  await step(staff, 'staff-add-doctor', async () => {
    const f = staff.locator('#doctor-form');
    await f.locator('input[name="name"]').fill(DOCTOR.name);
    await f.locator('input[name="title"]').fill(DOCTOR.title);
    await f.locator('input[name="speciality"]').fill(DOCTOR.speciality);
    const answered = response(staff, (r) => r.url().endsWith('/api/admin/doctors') && r.request().method() === 'POST', 'POST doctor');
    await f.locator('button[type=submit]').click();
    const res = await answered;
    expect(res.status() === 201, `POST /api/admin/doctors: ${res.status()} ${await res.text()}`);
    const doc = await res.json();
    await text(staff.locator('#doctor-ok'), T(zh, 'page.staffSessions.doctor_added', { name: DOCTOR.name }), 'added');
    await text(staff.locator('#doctors'), new RegExp(reEscape(`${DOCTOR.name} ${DOCTOR.title} · ${DOCTOR.speciality}`)), 'listed');
    await staff.locator('#c-doctor option[value="' + doc.id + '"]').waitFor({ state: 'attached' });
    await staff.locator('#c-doctor').selectOption(doc.id);
  });

  await step(staff, 'staff-create-session', async () => {
    // It starts in two minutes or so: time for everything below before it starts, and
    // attendance is taken once it has. Booking stays open until the start.
    // The form takes one date, so the talk ends the day it starts: an hour long, or until
    // 23:59 China time when it starts late in the evening (from 23:59 it waits for midnight).
    startMs = Math.ceil((Date.now() + 75_000) / 60_000) * 60_000;
    if (shanghai(startMs).at === '23:59') { startMs += 60_000; }
    const start = shanghai(startMs);
    let endMs = startMs + 60 * 60_000;
    while (shanghai(endMs).date !== start.date) { endMs -= 60_000; }
    const end = shanghai(endMs);
    const f = staff.locator('#create');
    await f.locator('input[name="title"]').fill(TITLE);
    await f.locator('input[name="date"]').fill(start.date);
    await f.locator('input[name="start"]').fill(start.at);
    await f.locator('input[name="end"]').fill(end.at);
    await f.locator('input[name="address"]').fill('二楼活动室');
    await f.locator('input[name="capacity"]').fill('1');
    await f.locator('input[name="closeBefore"]').fill('0');
    const answered = response(staff, (r) => r.url().endsWith('/api/admin/sessions') && r.request().method() === 'POST', 'POST session');
    await f.locator('button[type=submit]').click();
    const res = await answered;
    expect(res.status() === 201, `POST /api/admin/sessions: ${res.status()} ${await res.text()}`);
    session = await res.json();
    expect(new Date(session.startAt).getTime() === startMs, `startAt ${session.startAt}, want ${new Date(startMs).toISOString()} (China time ${start.at})`);
    expect(session.closesAt === session.startAt && session.capacity === 1, `window/capacity: ${JSON.stringify(session)}`);
    await text(staff.locator('#create-ok'), T(zh, 'page.staffSessions.created', { title: TITLE }), 'created');
    await text(staffRow(staff).locator('.s-seats'), T(zh, 'page.staffSessions.seats', { confirmed: 0, capacity: 1, waiting: 0 }), 'seats');
  });
});

// ---------------------------------------------------------------- seniors book
await flow(async () => {
  expect(session, 'no session to book');

  await step(phoneA, 'signed-out', async () => {
    const res = await phoneA.goto(base + '/sessions');
    expect(res && res.status() === 200, `GET /sessions: status ${res && res.status()}`);
    expect(/noindex/.test(res.headers()['x-robots-tag'] || ''), 'no noindex');
    await text(phoneA.locator('#signedout h1'), T(zh, 'page.sessions.signedout_heading'), 'how to get in');
    await sizes(phoneA);
  });

  await step(phoneA, 'a-books-one-tap', async () => {
    ids[A.name] = await signUp(phoneA, A);
    const taps = [];
    await phoneA.goto(base + '/sessions');
    const c = card(phoneA);
    await text(c.locator('.s-when'), session.when, 'when, in large type');
    await text(c.locator('.s-doctor'), `${DOCTOR.name} ${DOCTOR.title} · ${DOCTOR.speciality}`, 'the doctor');
    await text(c.locator('.s-seats'), T(zh, 'page.sessions.seats_left', { n: 1 }), 'one seat left');
    const px = await c.locator('.s-when').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    expect(px >= 30, `the time is ${px}px`);
    await onePrimary(phoneA);
    await sizes(phoneA);
    const uploads = [];
    phoneA.on('request', (r) => { if (r.url().endsWith('/voice-uploads')) { uploads.push(r.url()); } });
    const answered = response(phoneA, (r) => r.url().endsWith(`/api/sessions/${session.id}/bookings`) && r.request().method() === 'POST', 'POST booking');
    await c.locator('.s-book').tap();
    taps.push(T(zh, 'page.sessions.book'));
    const res = await answered;
    expect(res.status() === 201, `POST booking: ${res.status()} ${await res.text()}`);
    const sent = JSON.parse(res.request().postData() || '{}');
    expect(!sent.questionClipKey && uploads.length === 0, `a plain booking sent ${JSON.stringify(sent)} after ${uploads.length} uploads`);
    await text(c.locator('.s-done-h'), T(zh, 'page.sessions.done_booked'), 'booked, in place');
    await text(c.locator('.s-done-t'), T(zh, 'page.sessions.set_reminders'), 'reminders are set');
    await text(c.locator('.s-state'), T(zh, 'page.sessions.booked'), 'badge');
    console.log(`     taps from opening /sessions to booked: ${taps.length} (${taps.join(', ')})`);
    expect(taps.length === 1, `${taps.length} taps`);
    expect(await c.locator('.s-book').isHidden(), 'Book still shows after booking');
    await sizes(phoneA);
  });

  const tapsB = []; // from opening /sessions to waitlisted with a recorded question
  await step(phoneB, 'b-records-question', async () => {
    ids[B.name] = await signUp(phoneB, B);
    await phoneB.goto(base + '/sessions');
    const c = card(phoneB);
    await text(c.locator('.s-seats'), T(zh, 'page.sessions.full'), 'full');
    await text(c.locator('.s-book'), T(zh, 'page.sessions.book_wait'), 'join the waiting list');
    expect(await phoneB.locator('#rec').isHidden(), 'the recorder shows before the question is opened');
    await c.locator('.s-ask').tap();
    tapsB.push(T(zh, 'page.sessions.ask'));
    await c.locator('textarea').fill(Q_B);
    // The recorder is in the question box, collapsed with it until now.
    const rec = c.locator('#rec');
    await text(rec, T(zh, 'page.sessions.rec_start'), 'record, in the question box');
    await onePrimary(phoneB);
    await sizes(phoneB);
    const record = async (tap) => {
      await rec.tap();
      tap(T(zh, 'page.sessions.rec_start'));
      await text(rec, T(zh, 'page.sessions.rec_stop'), 'recording');
      await text(c.locator('#rec-status'), new RegExp('^' + reEscape(T(zh, 'page.sessions.rec_on', { time: '' }))), 'recording status');
      await phoneB.waitForTimeout(2000);
      await rec.tap();
      tap(T(zh, 'page.sessions.rec_stop'));
      await text(c.locator('#rec-status'), T(zh, 'page.sessions.rec_done'), 'recorded');
      await text(rec, T(zh, 'page.sessions.rec_again'), 'record again');
      await text(c.locator('#rec-del'), T(zh, 'page.sessions.rec_remove'), 'remove');
      await c.locator('#rec-play').waitFor();
    };
    await record(() => {});
    // A first try, removed: no player, no status, and the button records afresh (not counted).
    await c.locator('#rec-del').tap();
    await text(rec, T(zh, 'page.sessions.rec_start'), 'record, after removing');
    expect(await c.locator('#rec-play').isHidden() && await c.locator('#rec-status').isHidden() && await c.locator('#rec-del').isHidden(),
      'the removed recording still shows');
    await record((what) => tapsB.push(what));
    const dur = await c.locator('#rec-play').evaluate((a) => new Promise((ok) => {
      if (a.readyState >= 1) { ok(a.duration); return; }
      a.addEventListener('loadedmetadata', () => ok(a.duration));
      a.load();
    }));
    expect(dur > 0, `the recording plays back with duration ${dur}`);
    await onePrimary(phoneB);
    await sizes(phoneB);
  });

  await step(phoneB, 'b-waitlisted-with-question', async () => {
    const c = card(phoneB);
    const failedPut = [];
    phoneB.on('requestfailed', (r) => { if (r.method() === 'PUT') { failedPut.push(`${r.url().split('?')[0]}: ${r.failure() && r.failure().errorText}`); } });
    const presigned = response(phoneB, (r) => r.url().endsWith('/api/me/voice-uploads') && r.request().method() === 'POST', 'POST /api/me/voice-uploads');
    const answered = response(phoneB, (r) => r.url().endsWith(`/api/sessions/${session.id}/bookings`) && r.request().method() === 'POST', 'POST booking');
    await c.locator('.s-book').tap();
    tapsB.push(T(zh, 'page.sessions.book_wait'));
    const p = await presigned;
    expect(p.status() === 201, `POST /api/me/voice-uploads: ${p.status()}: ${await p.text()}`);
    // The clip goes straight to the bucket; the booking is made only once it is there.
    const res = await Promise.race([answered, c.locator('.s-error').waitFor({ state: 'visible', timeout: TIMEOUT }).then(() => null)]);
    expect(res, `not booked: "${await c.locator('.s-error').innerText().catch(() => '')}"; failed PUTs: ${failedPut.join('; ') || 'none'}`);
    expect(res.status() === 201, `POST booking: ${res.status()} ${await res.text()}`);
    const sent = JSON.parse(res.request().postData() || '{}');
    const { clipKey } = await p.json();
    expect(sent.question === Q_B && clipKey && sent.questionClipKey === clipKey, `the booking sent ${JSON.stringify(sent)}, clip ${clipKey}`);
    const body = await res.json();
    expect(body.status === 'waitlisted' && body.position === 1, `answer: ${JSON.stringify(body)}`);
    await text(c.locator('.s-done-h'), T(zh, 'page.sessions.done_wait', { n: 1 }), 'number 1, in place');
    await text(c.locator('.s-state'), T(zh, 'page.sessions.wait_pos', { n: 1 }), 'badge');
    console.log(`     taps from opening /sessions to waitlisted with a recorded question: ${tapsB.length} (${tapsB.join(', ')})`);
    await onePrimary(phoneB);
    await sizes(phoneB);
  });
});

// ---------------------------------------------------------------- A cancels from the SMS link; B moves up
await flow(async () => {
  expect(session, 'no session');
  await step(phoneA, 'a-my-bookings', async () => {
    await phoneA.goto(base + '/me');
    const row = phoneA.locator('#bookings > li').filter({ hasText: TITLE });
    await text(row.locator('.b-when'), session.when, 'my booking, when');
    await text(row.locator('.b-state'), T(zh, 'page.sessions.booked'), 'booked');
    const href = await row.locator('.b-link').getAttribute('href');
    expect(/^\/b\/[A-Za-z0-9_-]{20,}$/.test(href || ''), `link: ${href}`);
    link = base + href;
    expect(await phoneA.locator('#book-section a[href="/sessions"]').count() === 1, 'no link to /sessions');
  });

  // The booking page opened from an SMS, on a phone that never signed in.
  const sms = await newPage(zh);
  await step(sms, 'booking-page-cancels', async () => {
    const taps = [];
    const res = await sms.goto(link);
    expect(res && res.status() === 200, `GET ${link}: status ${res && res.status()}`);
    expect(res.headers()['referrer-policy'] === 'no-referrer', `referrer-policy: ${res.headers()['referrer-policy']}`);
    await text(sms.locator('#when'), session.when, 'when, largest');
    await text(sms.locator('#title'), TITLE, 'title');
    await text(sms.locator('#who'), T(zh, 'page.booking.for', { name: A.name }), 'whose');
    await text(sms.locator('#state-h'), T(zh, 'page.booking.confirmed'), 'confirmed');
    await onePrimary(sms);
    await sizes(sms);
    await sms.locator('#listen').tap();
    await text(sms.locator('#listen'), new RegExp('^(' + reEscape(T(zh, 'page.rem.listen')) + '|' + reEscape(T(zh, 'page.rem.stop')) + ')$'), 'listen');
    await sms.locator('#cancel').tap();
    taps.push(T(zh, 'page.booking.cancel'));
    await text(sms.locator('#cancel'), T(zh, 'page.sessions.cancel_confirm'), 'asks first');
    const answered = response(sms, (r) => r.url().endsWith('/cancel') && r.request().method() === 'POST', 'POST cancel');
    await sms.locator('#cancel').tap();
    taps.push(T(zh, 'page.sessions.cancel_confirm'));
    const r = await answered;
    expect(r.status() === 200, `POST cancel: ${r.status()} ${await r.text()}`);
    const body = await r.json();
    expect(body.promoted === true, `promoted: ${JSON.stringify(body)}`);
    await text(sms.locator('#state-h'), T(zh, 'page.booking.cancelled'), 'cancelled');
    expect(await sms.locator('#cancel').isHidden(), 'cancel still shows');
    console.log(`     taps from opening /b/<token> to cancelled: ${taps.length} (${taps.join(', ')})`);
    await sizes(sms);
  });

  await step(phoneB, 'b-promoted', async () => {
    await phoneB.goto(base + '/sessions');
    await text(card(phoneB).locator('.s-state'), T(zh, 'page.sessions.booked'), 'B has the seat');
    const r = await call(phoneB, 'GET', '/api/me/bookings');
    const mine = (r.data && r.data.bookings || []).find((b) => b.sessionId === session.id);
    expect(mine && mine.status === 'confirmed', `B's booking: ${JSON.stringify(mine)}`);
    await phoneB.goto(base + '/sessions?lang=en');
    await text(card(phoneB).locator('.s-state'), T(en, 'page.sessions.booked'), 'in English');
    await text(card(phoneB).locator('.s-cancel'), T(en, 'page.sessions.cancel'), 'cancel, in English');
  });
});

// ---------------------------------------------------------------- a second seat; the daughter books it
await flow(async () => {
  expect(session, 'no session');
  await step(staff, 'staff-adds-a-seat', async () => {
    await staff.reload();
    const row = staffRow(staff);
    await text(row.locator('.s-seats'), T(zh, 'page.staffSessions.seats', { confirmed: 1, capacity: 1, waiting: 0 }), 'B holds the seat');
    await row.locator('.s-edit').click();
    await row.locator('input[name="capacity"]').fill('2');
    const answered = response(staff, (r) => r.url().endsWith('/api/admin/sessions/' + session.id) && r.request().method() === 'PATCH', 'PATCH session');
    await row.locator('.s-form button[type=submit]').click();
    const res = await answered;
    expect(res.status() === 200, `PATCH: ${res.status()} ${await res.text()}`);
    await text(row.locator('.s-seats'), T(zh, 'page.staffSessions.seats', { confirmed: 1, capacity: 2, waiting: 0 }), 'two seats');
  });

  const daughter = await newPage(zh);
  await step(daughter, 'family-books-for-a', async () => {
    const made = await call(phoneA, 'POST', '/api/me/family-links', { label: '女儿', scope: 'helper', alerts: false });
    expect(made.status === 201 && made.data.url, `family link: ${made.status} ${JSON.stringify(made.data)}`);
    await daughter.goto(made.data.url);
    await text(daughter.locator('#ses-h'), T(zh, 'page.sessions.family_heading', { name: A.name }), 'heading');
    await text(daughter.locator('#ses-help'), T(zh, 'page.sessions.family_helper'), 'what a helper may do');
    const c = card(daughter);
    await text(c.locator('.s-seats'), T(zh, 'page.sessions.seats_left', { n: 1 }), 'one seat left');
    await c.locator('.s-ask').tap();
    await c.locator('textarea').fill(Q_FAMILY);
    const answered = response(daughter, (r) => /\/api\/family\/[^/]+\/bookings$/.test(r.url()) && r.request().method() === 'POST', 'POST family booking');
    await c.locator('.s-book').tap();
    const res = await answered;
    expect(res.status() === 201, `POST family booking: ${res.status()} ${await res.text()}`);
    await text(c.locator('.s-done-h'), T(zh, 'page.sessions.done_booked'), 'booked for her mother');
    await text(c.locator('.s-done-t'), T(zh, 'page.sessions.family_reminders'), 'reminders set for her');
    await text(c.locator('.s-state'), T(zh, 'page.sessions.booked'), 'badge');
    await onePrimary(daughter);
    await sizes(daughter);
  });

  // A view link sees, and cannot book.
  await step(daughter, 'family-view-only', async () => {
    const made = await call(phoneA, 'POST', '/api/me/family-links', { label: '儿子', scope: 'view', alerts: false });
    expect(made.status === 201, `view link: ${made.status}`);
    await daughter.goto(made.data.url);
    const c = card(daughter);
    await text(c.locator('.s-state'), T(zh, 'page.sessions.booked'), 'sees the booking');
    await text(daughter.locator('#ses-help'), T(zh, 'page.sessions.family_view'), 'view only');
    expect(await c.locator('.s-book').isHidden() && await c.locator('.s-cancel').isHidden(), 'a view link offers a button');
  });
});

// ---------------------------------------------------------------- staff: bookings, questions, attendance, digest
await flow(async () => {
  expect(session, 'no session');
  // The row of name in list: by the element that names the member (another row's menu names them too).
  const byName = (list, name) => staff.locator(`#${list} > li`).filter({
    has: staff.locator(list === 'd-questions' ? '.q-who' : '.a-name', { hasText: name }),
  });

  await step(staff, 'staff-session-detail', async () => {
    await staffRow(staff).locator('.s-open').click();
    await text(staff.locator('#d-title'), TITLE, 'the talk');
    await text(staff.locator('#d-confirmed-h'), T(zh, 'page.staffSessions.confirmed_heading', { n: 2 }), 'two booked');
    await text(byName('d-confirmed', A.name).locator('.a-name'), `${A.name} · ${T(zh, 'page.staffSessions.via_family')}`, 'A, booked by family');
    await text(staff.locator('#d-questions-h'), T(zh, 'page.staffSessions.questions_heading', { n: 2 }), 'two questions');
    // B recorded her question as well: the API says so, and the page plays it.
    const r = await fetch(base + '/api/admin/sessions/' + session.id, { headers: { Authorization: 'Bearer ' + opt.token } });
    const detail = await r.json();
    const bq = (detail.bookings || []).find((b) => b.memberId === ids[B.name]);
    expect(bq && bq.hasQuestionClip === true && bq.question === Q_B && /clips\//.test(bq.questionAudioUrl || ''), `B's booking: ${JSON.stringify(bq)}`);
    const clip = await fetch(bq.questionAudioUrl);
    expect(clip.status === 200 && (await clip.arrayBuffer()).byteLength > 0, `GET questionAudioUrl: ${clip.status}`);
    const audio = byName('d-questions', B.name).locator('.q-audio');
    await audio.waitFor();
    expect(/clips\//.test(await audio.getAttribute('src') || ''), 'the staff page does not play B\'s recording');
    // B's question first, and A's marked as the same question.
    const qb = byName('d-questions', B.name);
    await qb.locator('input[name="rank"]').fill('1');
    let answered = response(staff, (r) => r.url().includes('/bookings/') && r.request().method() === 'PATCH', 'PATCH rank');
    await qb.locator('button[type=submit]').click();
    expect((await answered).status() === 200, 'rank not saved');
    const qa = byName('d-questions', A.name);
    await text(staff.locator('#d-questions > li').first().locator('.q-text'), Q_B, 'ranked first');
    await qa.locator('select[name="duplicateOf"]').selectOption(ids[B.name]);
    answered = response(staff, (r) => r.url().includes('/bookings/') && r.request().method() === 'PATCH', 'PATCH duplicate');
    await qa.locator('button[type=submit]').click();
    const res = await answered;
    expect(res.status() === 200, `duplicate: ${res.status()} ${await res.text()}`);
    await text(byName('d-questions', A.name).locator('.q-dup-of'), T(zh, 'page.staffSessions.duplicate_of', { name: B.name }), 'a repeat');
  });

  await step(staff, 'attendance-after-start', async () => {
    // Too early: the talk has not started, and the page says so.
    const early = startMs - Date.now();
    if (early > 5_000) {
      await byName('d-confirmed', A.name).locator('.a-yes').click();
      await text(byName('d-confirmed', A.name).locator('.a-error'), /\S/, 'not started yet');
    }
    const wait = startMs - Date.now() + 1_000;
    if (wait > 0) {
      console.log(`     waiting ${Math.round(wait / 1000)} s for the talk to start`);
      await new Promise((r) => setTimeout(r, wait));
    }
    await staff.reload(); // the page keeps ?id= of the talk it shows
    await text(staff.locator('#d-title'), TITLE, 'the talk again');
    for (const [who, btn, state] of [[A.name, '.a-yes', 'att_attended'], [B.name, '.a-no', 'att_no_show']]) {
      const row = byName('d-confirmed', who);
      const answered = response(staff, (r) => r.url().includes('/bookings/') && r.request().method() === 'PATCH', 'PATCH attendance');
      await row.locator(btn).click();
      const res = await answered;
      expect(res.status() === 200, `attendance: ${res.status()} ${await res.text()}`);
      await text(row.locator('.a-state'), T(zh, 'page.staffSessions.' + state), who + ' attendance');
      expect(await row.locator(btn).getAttribute('aria-pressed') === 'true', 'the button does not show the choice');
    }
    await text(staff.locator('#d-facts'), new RegExp(reEscape(T(zh, 'page.staffSessions.facts', { attended: 1, noShow: 1 })) + '$'), 'counted');
  });

  await step(staff, 'question-digest', async () => {
    await staff.locator('#d-digest').click();
    await staff.waitForURL(new RegExp('/admin/sessions/digest\\?id=' + reEscape(session.id) + '$'));
    await text(staff.locator('#g-title'), TITLE, 'digest title');
    const items = staff.locator('#g-questions > li');
    await text(items.first().locator('.big'), Q_B, 'the first question');
    expect(await items.count() === 1, `${await items.count()} questions; the repeat is not folded`);
    await text(items.first().locator('.quiet'), new RegExp(reEscape(T(zh, 'page.staffSessions.digest_also', { n: 1, names: A.name }))), 'folded repeat');
    const px = await items.first().locator('.big').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    expect(px >= 24, `questions are ${px}px`);
    // Printed, the sheet is the digest alone, on one page.
    await staff.emulateMedia({ media: 'print' });
    const hidden = await staff.evaluate(() => getComputedStyle(document.querySelector('#print')).visibility);
    expect(hidden === 'hidden', `the print button prints (${hidden})`);
    const pdf = await staff.pdf({ format: 'A4', printBackground: true });
    await writeFile(path.join(opt.out, 'qa-digest.pdf'), pdf);
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page(?!s)/g) || []).length;
    expect(pages === 1, `the digest prints on ${pages} pages`);
    // The step's screenshot shows the page as printed.
  });
});

await h.finish();
