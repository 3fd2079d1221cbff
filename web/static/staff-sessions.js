// /admin/sessions: the store's doctor Q&A sessions for staff. Doctors (list, add); sessions
// (upcoming or past, create, change the seats or when booking closes, cancel with a second
// tap); one session in detail: the confirmed bookings with attendance (到场 / 未到), the
// waitlist in order, the questions to rank and mark as repeats, and a link to the printable
// digest (staff-digest.js). What the API returns goes in with textContent, never as HTML. Uses
// rem.js and staff.js (the token, the sign-in form).
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem, msg = R.msg, fill = R.fill, show = R.show;
  var call = R.call, ok = R.ok, el = R.el, doctorWords = R.doctor, place = R.place;
  var past = false, cursor = '', current = null, enc = encodeURIComponent;

  function tpl(id) { return $(id).content.firstElementChild.cloneNode(true); }

  // instant is a wall-clock date ("2026-11-25") and time ("09:30") in zone tz as UTC RFC 3339.
  function instant(date, at, tz) {
    var p = (date + '-' + at).split(/[-:]/).map(Number);
    var wall = Date.UTC(p[0], p[1] - 1, p[2], p[3], p[4]);
    function offset(ms) {
      var q = {};
      new Intl.DateTimeFormat('en', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' })
        .formatToParts(new Date(ms)).forEach(function (x) { q[x.type] = +x.value; });
      return Date.UTC(q.year, q.month - 1, q.day, q.hour, q.minute) - Math.floor(ms / 60000) * 60000;
    }
    return iso(wall - offset(wall - offset(wall)));
  }

  function iso(ms) { return new Date(ms).toISOString().replace('.000Z', 'Z'); }

  // before is n minutes before the instant ts, as RFC 3339.
  function before(ts, n) { return iso(new Date(ts).getTime() - n * 60000); }

  // ---------------------------------------------------------------- doctors

  async function loadDoctors() {
    var ul = $('doctors'), sel = $('c-doctor');
    show($('doctors-status'), msg.loading);
    var a = await call('GET', '/api/admin/doctors');
    ul.textContent = '';
    sel.textContent = '';
    sel.appendChild(el('option', msg.doctorPick)).value = '';
    (ok(a) && a.data.doctors || []).forEach(function (d) {
      var li = ul.appendChild(el('li', '', 'member'));
      li.appendChild(el('p', doctorWords(d), 'm-name'));
      if (d.bio) { li.appendChild(el('p', d.bio, 'm-line')); }
      sel.appendChild(el('option', doctorWords(d))).value = d.id;
    });
    if (sel.options.length === 2) { sel.selectedIndex = 1; }
    show($('doctors-status'), !ok(a) ? R.problem(a) : ul.children.length ? '' : msg.doctorsEmpty);
  }

  $('doctor-form').addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var f = this, e = f.elements, btn = f.querySelector('button');
    var body = { name: e.name.value.trim(), title: e.title.value.trim(), speciality: e.speciality.value.trim(), bio: e.bio.value.trim() };
    show($('doctor-ok'), '');
    btn.disabled = true;
    var a = await call('POST', '/api/admin/doctors', body, { 'Idempotency-Key': R.key(body) });
    btn.disabled = false;
    show($('doctor-error'), ok(a) ? '' : R.problem(a));
    if (!ok(a)) { return; }
    R.keyUsed();
    f.reset();
    show($('doctor-ok'), fill(msg.doctorAdded, { name: a.data.name || body.name }));
    loadDoctors();
  });

  // ---------------------------------------------------------------- sessions

  function seatsWords(s) {
    return fill(msg.seats, { confirmed: s.confirmed || 0, capacity: s.capacity || 0, waiting: s.waiting || 0 });
  }

  function row(s) {
    var li = tpl('ses-tpl'), q = function (c) { return li.querySelector('.' + c); };
    var form = q('s-form'), cancel = q('s-cancel'), err = q('s-error'), armed = false;
    li.dataset.id = s.id;
    function draw() {
      var off = s.status === 'cancelled', started = new Date(s.startAt).getTime() <= Date.now();
      q('s-name').textContent = [s.title, doctorWords(s.doctor)].join(' · ');
      q('s-when').textContent = (s.when || R.when(s.startAt, s.timeZone)) + ' · ' + place(s.place);
      q('s-seats').textContent = off ? msg.sesCancelled : seatsWords(s);
      q('s-edit').hidden = cancel.hidden = off || started;
      if (off || started) { form.hidden = true; }
      cancel.textContent = msg.cancel;
      armed = false;
    }
    draw();
    q('s-open').addEventListener('click', function () { openDetail(s.id); });
    q('s-edit').addEventListener('click', function () {
      form.hidden = !form.hidden;
      this.setAttribute('aria-expanded', String(!form.hidden));
      form.elements.capacity.value = s.capacity;
      form.elements.closeBefore.value = Math.round((new Date(s.startAt) - new Date(s.closesAt)) / 60000);
    });
    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var n = parseInt(form.elements.closeBefore.value, 10) || 0;
      var body = { capacity: parseInt(form.elements.capacity.value, 10) || 0, closesAt: before(s.startAt, n) };
      show(q('s-ok'), '');
      var a = await call('PATCH', '/api/admin/sessions/' + enc(s.id), body);
      show(err, ok(a) ? '' : R.problem(a));
      if (!ok(a)) { return; }
      s = a.data;
      draw();
      form.hidden = true;
      show(q('s-ok'), msg.saved);
    });
    cancel.addEventListener('click', async function () {
      // The first tap asks; only a second, deliberate tap cancels the session for everyone.
      if (!armed) {
        armed = true;
        cancel.textContent = msg.cancelConfirm;
        return;
      }
      cancel.disabled = true;
      var a = await call('POST', '/api/admin/sessions/' + enc(s.id) + '/cancel', {});
      cancel.disabled = false;
      show(err, ok(a) ? '' : R.problem(a));
      if (ok(a)) {
        s = a.data.session || s;
        show(q('s-ok'), fill(msg.notified, { n: a.data.notified || 0 }));
      }
      draw();
    });
    return li;
  }

  async function loadSessions(next) {
    var ul = $('sessions');
    if (!next) { ul.textContent = ''; cursor = ''; }
    show($('sessions-status'), msg.loading);
    var a = await call('GET', '/api/admin/sessions?' + (past ? 'past=1&' : '') + (cursor ? 'cursor=' + enc(cursor) : ''));
    (ok(a) && a.data.sessions || []).forEach(function (s) {
      if (s.timeZone) { R.tz = s.timeZone; }
      ul.appendChild(row(s));
    });
    cursor = ok(a) && a.data.cursor || '';
    $('sessions-more').hidden = !cursor;
    show($('sessions-status'), !ok(a) ? R.problem(a) : ul.children.length ? '' : msg.sessionsEmpty);
  }
  $('sessions-more').addEventListener('click', function () { loadSessions(true); });
  $('past').addEventListener('click', function () {
    past = !past;
    this.setAttribute('aria-pressed', String(past));
    this.textContent = past ? msg.showUpcoming : msg.showPast;
    $('sessions-h').textContent = past ? msg.pastHeading : msg.upcoming;
    loadSessions();
  });

  var form = $('create');
  function syncPlace() {
    form.querySelector('[data-for="online"]').hidden = form.elements.kind.value !== 'online';
  }
  form.querySelectorAll('input[name="kind"]').forEach(function (x) { x.addEventListener('change', syncPlace); });
  form.elements.date.value = R.today();

  form.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var e = form.elements, box = $('create-error'), btn = form.querySelector('button[type=submit]');
    show($('create-ok'), '');
    var at = /^\d\d:\d\d$/, date = e.date.value;
    if (!e.title.value.trim()) { show(box, msg.titleMissing); e.title.focus(); return; }
    if (!/^\d{4}-\d\d-\d\d$/.test(date) || !at.test(e.start.value) || !at.test(e.end.value)) { show(box, msg.timeMissing); e.date.focus(); return; }
    var start = instant(date, e.start.value, R.tz);
    var body = {
      doctorId: e.doctorId.value, title: e.title.value.trim(), startAt: start, endAt: instant(date, e.end.value, R.tz),
      place: { kind: e.kind.value, address: e.address.value.trim() }, capacity: parseInt(e.capacity.value, 10) || 0,
      closesAt: before(start, parseInt(e.closeBefore.value, 10) || 0)
    };
    if (e.kind.value === 'online') { body.place.url = e.url.value.trim(); }
    if (e.notes.value.trim()) { body.notes = e.notes.value.trim(); }
    btn.disabled = true;
    var a = await call('POST', '/api/admin/sessions', body, { 'Idempotency-Key': R.key(body) });
    btn.disabled = false;
    show(box, ok(a) ? '' : R.problem(a));
    if (!ok(a)) { return; }
    R.keyUsed();
    e.title.value = e.notes.value = '';
    show($('create-ok'), fill(msg.created, { title: a.data.title || body.title }));
    if (!past) { loadSessions(); }
  });

  // ---------------------------------------------------------------- one session

  // order puts questions as the doctor takes them: ranked ones first, by rank, then the rest in
  // the order they were asked.
  function order(a, b) {
    var ra = a.rank || 1e9, rb = b.rank || 1e9;
    return ra !== rb ? ra - rb : String(a.createdAt).localeCompare(String(b.createdAt));
  }

  function list(id, heading, items, item) {
    var ul = $(id);
    $(id + '-h').textContent = fill(heading, { n: items.length });
    ul.textContent = '';
    items.forEach(function (x) { ul.appendChild(item(x)); });
    if (!items.length) { ul.appendChild(el('li', msg.none, 'quiet')); }
  }

  function attendee(b) {
    var li = tpl('att-tpl'), q = function (c) { return li.querySelector('.' + c); };
    function draw() {
      q('a-name').textContent = [b.memberName, msg['via_' + b.via]].filter(Boolean).join(' · ');
      q('a-q').textContent = b.question || (b.hasQuestionClip ? msg.clip : msg.noQuestion);
      q('a-state').textContent = msg['att_' + (b.attendance || '')] || '';
      q('a-yes').setAttribute('aria-pressed', String(b.attendance === 'attended'));
      q('a-no').setAttribute('aria-pressed', String(b.attendance === 'no_show'));
    }
    function mark(value) {
      return async function () {
        this.disabled = true;
        var a = await call('PATCH', '/api/admin/sessions/' + enc(current.session.id) + '/bookings/' + enc(b.memberId), { attendance: value });
        this.disabled = false;
        show(q('a-error'), ok(a) ? '' : R.problem(a));
        if (ok(a)) {
          // The session's counts follow, as the table's do.
          var s = current.session, k = { attended: 'attended', no_show: 'noShow' };
          if (k[b.attendance]) { s[k[b.attendance]]--; }
          b.attendance = a.data.attendance;
          if (k[b.attendance]) { s[k[b.attendance]] = (s[k[b.attendance]] || 0) + 1; }
          facts();
          draw();
        }
      };
    }
    q('a-yes').addEventListener('click', mark('attended'));
    q('a-no').addEventListener('click', mark('no_show'));
    draw();
    return li;
  }

  function question(b, asked) {
    var li = tpl('q-tpl'), q = function (c) { return li.querySelector('.' + c); }, f = q('q-form');
    var names = {};
    asked.forEach(function (x) { names[x.memberId] = x.memberName; });
    q('q-who').textContent = [b.rank ? fill(msg.rankOf, { n: b.rank }) : '', b.memberName].filter(Boolean).join(' · ');
    q('q-text').textContent = b.question || msg.clip;
    if (b.questionAudioUrl) {
      q('q-audio').src = b.questionAudioUrl;
      q('q-audio').hidden = false;
    }
    if (b.duplicateOf) { show(q('q-dup-of'), fill(msg.dupOf, { name: names[b.duplicateOf] || '' })); }
    f.elements.rank.value = b.rank || '';
    var sel = f.elements.duplicateOf;
    sel.appendChild(el('option', msg.notDup)).value = '';
    asked.forEach(function (x) {
      if (x.memberId !== b.memberId) { sel.appendChild(el('option', x.memberName + '：' + (x.question || msg.clip).slice(0, 20))).value = x.memberId; }
    });
    sel.value = b.duplicateOf || '';
    f.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var body = { rank: parseInt(f.elements.rank.value, 10) || 0, duplicateOf: sel.value };
      var a = await call('PATCH', '/api/admin/sessions/' + enc(current.session.id) + '/bookings/' + enc(b.memberId), body);
      show(q('q-error'), ok(a) ? '' : R.problem(a));
      if (!ok(a)) { return; }
      b.rank = a.data.rank || 0;
      b.duplicateOf = a.data.duplicateOf || '';
      drawDetail();
      show($('d-status'), msg.saved);
    });
    return li;
  }

  function facts() {
    var s = current.session;
    $('d-facts').textContent = s.status === 'cancelled' ? msg.sesCancelled
      : seatsWords(s) + ' · ' + fill(msg.facts, { attended: s.attended || 0, noShow: s.noShow || 0 });
  }

  function drawDetail() {
    var s = current.session, bs = current.bookings || [];
    var confirmed = bs.filter(function (b) { return b.status === 'confirmed'; });
    var waiting = bs.filter(function (b) { return b.status === 'waitlisted'; }).sort(function (a, b) { return (a.position || 0) - (b.position || 0); });
    var asked = bs.filter(function (b) { return b.status !== 'cancelled' && (b.question || b.hasQuestionClip); }).sort(order);
    $('d-title').textContent = s.title || '';
    $('d-when').textContent = (s.when || R.when(s.startAt, s.timeZone)) + ' · ' + place(s.place);
    $('d-doctor').textContent = doctorWords(s.doctor);
    facts();
    $('d-digest').href = '/admin/sessions/digest?id=' + enc(s.id);
    list('d-confirmed', msg.confirmedH, confirmed, attendee);
    list('d-wait', msg.waitH, waiting, function (b) {
      return el('li', fill(msg.waitPos, { n: b.position || '' }) + ' · ' + b.memberName + (b.question ? '：' + b.question : ''), 'member');
    });
    list('d-questions', msg.questionsH, asked, function (b) { return question(b, asked); });
  }

  async function openDetail(id) {
    $('list-view').hidden = true;
    $('detail').hidden = false;
    show($('d-status'), msg.loading);
    var a = await call('GET', '/api/admin/sessions/' + enc(id));
    if (!ok(a)) {
      show($('d-status'), R.problem(a));
      return;
    }
    show($('d-status'), '');
    current = a.data;
    var u = new URLSearchParams(location.search);
    u.set('id', id);
    history.replaceState(null, '', '?' + u);
    drawDetail();
    $('d-title').focus();
  }

  $('back').addEventListener('click', function () {
    $('detail').hidden = true;
    $('list-view').hidden = false;
    current = null;
    var u = new URLSearchParams(location.search);
    u.delete('id');
    history.replaceState(null, '', location.pathname + (String(u) ? '?' + u : ''));
    loadSessions();
  });

  R.staff(function () {
    loadDoctors();
    loadSessions();
    var id = new URLSearchParams(location.search).get('id');
    if (id) { openDetail(id); }
  });
}());
