// The family page (/f/{token}): what a relative sees when they open the link a senior gave them.
// The token is read from the path and sent only to /api/family/{token}… (no Referer anywhere:
// the page and the API both say no-referrer). It shows whose page this is, what the link allows
// and the senior's reminders (rem.js); a helper link may pause or cancel them and add one —
// as text, or in the relative's own voice: tap to record, tap to stop, listen back, save (the
// clip goes to a presigned upload URL, then the reminder names it). A link that is unknown,
// expired or revoked gets a kind explanation of what to do. Everything from the API is
// inserted with textContent, never as HTML.
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
    screen('view');
    reminders = R.list({ base: base + '/reminders', edit: helper, api: opts });
    reminders.load();
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

  // ---------------------------------------------------------------- recording a voice clip

  var rec = { mr: null, stream: null, chunks: [], blob: null, type: '', timer: 0, secs: 0 };
  var MAX_SECONDS = 60; // a reminder is a sentence or two; the upload limit stays far away

  function seconds(n) { return Math.floor(n / 60) + ':' + ('0' + n % 60).slice(-2); }

  function clearClip() {
    rec.blob = null;
    if ($('rec-play').src) { URL.revokeObjectURL($('rec-play').src); }
    $('rec-play').removeAttribute('src');
    $('rec-play').hidden = true;
    show($('rec-status'), '');
    $('rec').textContent = msg.recStart;
  }

  function stopped() {
    clearInterval(rec.timer);
    rec.stream.getTracks().forEach(function (t) { t.stop(); });
    rec.type = String(rec.mr.mimeType || 'audio/webm').split(';')[0];
    rec.blob = new Blob(rec.chunks, { type: rec.type });
    rec.mr = null;
    $('rec-play').src = URL.createObjectURL(rec.blob);
    $('rec-play').hidden = false;
    $('rec').textContent = msg.recAgain;
    show($('rec-status'), msg.recDone);
  }

  // One button: the first tap starts recording, the next stops it (nothing to hold down).
  async function recTap() {
    if (rec.mr) {
      rec.mr.stop();
      return;
    }
    clearClip();
    try {
      rec.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      show($('rec-status'), msg.recDenied);
      return;
    }
    var type = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'].filter(function (t) {
      return MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(t);
    })[0];
    rec.mr = new MediaRecorder(rec.stream, type ? { mimeType: type } : undefined);
    rec.chunks = [];
    rec.mr.ondataavailable = function (e) { if (e.data && e.data.size) { rec.chunks.push(e.data); } };
    rec.mr.onstop = stopped;
    rec.mr.start();
    rec.secs = 0;
    $('rec').textContent = msg.recStop;
    show($('rec-status'), fill(msg.recOn, { time: seconds(0) }));
    rec.timer = setInterval(function () {
      rec.secs++;
      show($('rec-status'), fill(msg.recOn, { time: seconds(rec.secs) }));
      if (rec.secs >= MAX_SECONDS && rec.mr) { rec.mr.stop(); }
    }, 1000);
  }

  // upload puts the recorded clip where the API says and returns its key, or "" with the error
  // shown.
  async function upload(box) {
    var p = await R.api('POST', base + '/voice-uploads', { contentType: rec.type, size: rec.blob.size }, opts);
    if (p.status !== 200 && p.status !== 201 || !p.data || !p.data.uploadUrl) {
      show(box, R.problem(p));
      return '';
    }
    try {
      var res = await fetch(p.data.uploadUrl, {
        method: p.data.method || 'PUT', headers: p.data.headers || { 'Content-Type': rec.type },
        body: rec.blob, credentials: 'omit', referrerPolicy: 'no-referrer'
      });
      if (!res.ok) { throw new Error('status ' + res.status); }
    } catch (e) {
      show(box, msg.uploadFailed);
      return '';
    }
    return p.data.clipKey;
  }

  // ---------------------------------------------------------------- adding a reminder

  async function addReminder(ev) {
    ev.preventDefault();
    var f = $('rem-form'), box = $('rem-form-error'), btn = $('rem-save');
    if (rec.mr) { // still recording: what was said so far is the clip
      await new Promise(function (done) {
        rec.mr.addEventListener('stop', function () { setTimeout(done, 0); });
        rec.mr.stop();
      });
    }
    var d = R.draft(f);
    if (d.error) {
      R.fieldError(f, box, d.error, d.field);
      return;
    }
    R.fieldError(f, box, '');
    btn.disabled = true;
    if (rec.blob) {
      btn.textContent = msg.uploading;
      d.draft.clipKey = await upload(box);
      if (!d.draft.clipKey) {
        btn.disabled = false;
        btn.textContent = btn.getAttribute('data-label');
        return;
      }
    }
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
    clearClip();
    reminders.add(r.data);
    screen('view');
    show($('rem-status'), msg.remSaved);
    $('rem-h').scrollIntoView();
  }

  var canRecord = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
  $('rec').hidden = !canRecord;
  $('rec-none').hidden = canRecord;
  $('rec').addEventListener('click', recTap);
  R.form($('rem-form'));
  $('rem-save').setAttribute('data-label', $('rem-save').textContent);
  $('rem-form').addEventListener('submit', addReminder);
  $('rem-open').addEventListener('click', function () {
    show($('rem-status'), '');
    screen('rem-add');
    $('rem-add-h').focus();
  });
  $('rem-back').addEventListener('click', function () {
    if (rec.mr) { rec.mr.stop(); }
    screen('view');
    $('rem-open').focus();
  });
  $('retry').addEventListener('click', load);
  load();
}());
