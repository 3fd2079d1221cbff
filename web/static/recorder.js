// recorder.js (family, staff pages): #rec records a clip (a tap starts, the next stops),
// #rec-play plays it back, R.clip uploads it. Needs rem.js.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem, msg = R.msg, show = R.show;
  var btn = $('rec'), play = $('rec-play'), status = $('rec-status');
  var rec = { mr: null, blob: null, type: '', key: '', timer: 0, secs: 0 };
  var MAX_SECONDS = 60; // a reminder is a sentence or two; the upload limit stays far away

  function on() {
    show(status, R.fill(msg.recOn, { time: Math.floor(rec.secs / 60) + ':' + ('0' + rec.secs % 60).slice(-2) }));
  }

  // clipClear forgets the clip: after a save, and before recording another.
  R.clipClear = function () {
    rec.blob = null;
    rec.key = '';
    if (play.src) { URL.revokeObjectURL(play.src); }
    play.removeAttribute('src');
    play.hidden = true;
    show(status, '');
    btn.textContent = msg.recStart;
  };

  function stop() {
    clearInterval(rec.timer);
    if (rec.mr.state === 'recording') { rec.mr.stop(); }
  }

  async function tap() {
    if (rec.mr) {
      stop();
      return;
    }
    R.clipClear();
    var stream, chunks = [];
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      show(status, msg.recDenied);
      return;
    }
    var type = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'].filter(function (t) {
      return MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(t);
    })[0];
    var mr = rec.mr = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    mr.ondataavailable = function (e) { if (e.data && e.data.size) { chunks.push(e.data); } };
    mr.onstop = function () {
      stream.getTracks().forEach(function (t) { t.stop(); });
      rec.type = String(mr.mimeType || 'audio/webm').split(';')[0];
      rec.blob = new Blob(chunks, { type: rec.type });
      rec.mr = null;
      play.src = URL.createObjectURL(rec.blob);
      play.hidden = false;
      btn.textContent = msg.recAgain;
      show(status, msg.recDone);
    };
    mr.start();
    rec.secs = 0;
    btn.textContent = msg.recStop;
    on();
    rec.timer = setInterval(function () {
      rec.secs++;
      on();
      if (rec.secs >= MAX_SECONDS) { stop(); }
    }, 1000);
  }

  // clipDone ends a recording under way: what was said so far is the clip.
  R.clipDone = function () {
    return rec.mr && new Promise(function (done) {
      rec.mr.addEventListener('stop', function () { setTimeout(done, 0); });
      stop();
    });
  };

  // clip uploads the clip where POST path says and resolves to its key: "" for no clip, null with
  // the error in box. The key is kept until clipClear: a retried save keeps its Idempotency-Key.
  R.clip = async function (path, o, box, b) {
    await R.clipDone();
    if (!rec.blob || rec.key) { return rec.key; }
    b.textContent = msg.uploading;
    var p = await R.api('POST', path, { contentType: rec.type, size: rec.blob.size }, o);
    if (p.status !== 200 && p.status !== 201 || !p.data || !p.data.uploadUrl) {
      show(box, R.problem(p));
      return null;
    }
    try {
      var res = await fetch(p.data.uploadUrl, {
        method: p.data.method || 'PUT', headers: p.data.headers || { 'Content-Type': rec.type },
        body: rec.blob, credentials: 'omit', referrerPolicy: 'no-referrer'
      });
      if (!res.ok) { throw new Error('status ' + res.status); }
    } catch (e) {
      show(box, msg.uploadFailed);
      return null;
    }
    return (rec.key = p.data.clipKey);
  };

  var can = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
  btn.hidden = !can;
  $('rec-none').hidden = can;
  btn.addEventListener('click', tap);
}());
