// The family page (/f/{token}): whose page, what the link allows, the senior's reminders
// (rem.js; a helper link adds one, as text or a recording: recorder.js) and Q&A sessions
// (seslist.js; a helper link books). The token goes only to /api/family/{token}… (no Referer).
// A dead link is explained kindly. API text goes in with textContent, never as HTML.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem, msg = R.msg, fill = R.fill, show = R.show;
  var SCREENS = ['loading', 'failed', 'gone', 'view', 'rem-add'];
  var token = decodeURIComponent((location.pathname.split('/f/')[1] || '').split('/')[0]);
  var base = '/api/family/' + encodeURIComponent(token);
  var opts = { creds: 'omit' };
  var reminders = null;

  function screen(id) {
    SCREENS.forEach(function (s) { $(s).hidden = s !== id; });
  }

  function day(ts) {
    var d = new Date(ts);
    if (!ts || isNaN(d.getTime())) { return ''; }
    return new Intl.DateTimeFormat(R.lang, { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'Asia/Shanghai' }).format(d);
  }

  function render(v) {
    var helper = v.scope === 'helper';
    $('whose').textContent = fill(msg.whose, { name: v.name || '' });
    $('for').textContent = fill(msg['for'], { label: v.label || '' });
    $('allows').textContent = msg[v.scope] || msg.view;
    $('expires').textContent = fill(msg.expires, { date: day(v.expiresAt) });
    $('rem-h').textContent = fill(msg.remHeading, { name: v.name || '' });
    $('rem-open').textContent = $('rem-add-h').textContent = fill(msg.remAdd, { name: v.name || '' });
    $('rem-open').hidden = !helper;
    R.idle(function () { screen('view'); }); // once the lists are in: nothing moves
    reminders = R.list({ base: base + '/reminders', edit: helper, api: opts });
    reminders.load();
    // A helper link books the senior's Q&A sessions (a question too) and cancels; view sees.
    $('ses-h').textContent = fill(msg.sesHeading, { name: v.name || '' });
    $('ses-help').textContent = helper ? msg.sesHelper : msg.sesView;
    R.sessions({
      base: base + '/sessions', edit: helper, api: opts,
      book: function (s) { return { path: base + '/bookings', body: { sessionId: s.id } }; },
      cancel: function (s) { return base + '/bookings/' + encodeURIComponent(s.id); }
    }).load();
  }

  async function load() {
    if (!token) {
      screen('gone');
      return;
    }
    screen('loading');
    var r = await R.api('GET', base, undefined, opts);
    if (r.status === 404) {
      screen('gone');
      return;
    }
    if (r.status === 200 && r.data) {
      render(r.data);
      return;
    }
    $('failed-text').textContent = R.problem(r);
    screen('failed');
  }

  // ---------------------------------------------------------------- adding a reminder

  async function addReminder(ev) {
    ev.preventDefault();
    var f = $('rem-form'), box = $('rem-form-error'), btn = $('rem-save');
    await R.clipDone();
    var d = R.draft(f);
    if (d.error) {
      R.fieldError(f, box, d.error, d.field);
      return;
    }
    R.fieldError(f, box, '');
    btn.disabled = true;
    var clip = await R.clip(base + '/voice-uploads', opts, box, btn);
    if (clip === null) {
      btn.disabled = false;
      btn.textContent = btn.getAttribute('data-label');
      return;
    }
    if (clip) { d.draft.clipKey = clip; }
    btn.textContent = msg.remSaving;
    var r = await R.api('POST', base + '/reminders', d.draft, { creds: 'omit', headers: { 'Idempotency-Key': R.key(d.draft) } });
    btn.disabled = false;
    btn.textContent = btn.getAttribute('data-label');
    if (r.status < 200 || r.status > 299 || !r.data) {
      R.fieldError(f, box, R.problem(r), r.data && r.data.error && r.data.error.field);
      return;
    }
    R.keyUsed();
    R.clearForm(f);
    R.clipClear();
    reminders.add(r.data);
    screen('view');
    show($('rem-status'), msg.remSaved);
    $('rem-h').scrollIntoView();
  }

  R.form($('rem-form'));
  $('rem-save').setAttribute('data-label', $('rem-save').textContent);
  $('rem-form').addEventListener('submit', addReminder);
  $('rem-open').addEventListener('click', function () {
    show($('rem-status'), '');
    screen('rem-add');
    $('rem-add-h').focus();
  });
  $('rem-back').addEventListener('click', function () {
    R.clipDone();
    screen('view');
    $('rem-open').focus();
  });
  $('retry').addEventListener('click', load);
  load();
}());
