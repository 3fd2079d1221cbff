// The reminder page (/r/{token}): what a senior opens from the text message. The reminder's
// words in large type and when it is, a "听一听 / Listen" button (the recorded clip, or the text
// spoken by the phone) and one big "收到 / Done" that acknowledges the occurrence being sent —
// one tap from opening the link to done. Already acknowledged, it says so at once. The token is
// read from the path and sent only to /api/r/{token} (no Referer anywhere). Uses rem.js.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem, msg = R.msg, show = R.show;
  var SCREENS = ['loading', 'failed', 'gone', 'view'];
  var token = decodeURIComponent((location.pathname.split('/r/')[1] || '').split('/')[0]);
  var api = '/api/r/' + encodeURIComponent(token);
  var opts = { creds: 'omit' };
  var v = {};

  function screen(id) {
    SCREENS.forEach(function (s) { $(s).hidden = s !== id; });
  }

  // answered shows the big confirmation in place of the button.
  function answered(at) {
    $('ask').hidden = true;
    $('nothing').hidden = true;
    $('acked-at').textContent = at ? R.fill(msg.ackedAt, { when: R.when(at, v.timeZone) }) : '';
    $('acked').hidden = false;
  }

  function render() {
    R.tz = v.timeZone || R.tz;
    $('kind').textContent = [msg['k_' + v.kind], v.memberName ? R.fill(msg['for'], { name: v.memberName }) : '']
      .filter(Boolean).join(' · ');
    $('text').textContent = v.text || '';
    $('when').textContent = R.when(v.at || v.nextAt, v.timeZone);
    $('next').textContent = v.nextAt && v.nextAt !== v.at ? R.fill(msg.next, { when: R.when(v.nextAt, v.timeZone) }) : '';
    // A doctor's talk: its booking page shows the booking and cancels it.
    var tok = String(v.bookingUrl || '').split('/b/')[1];
    if (tok) { $('booking-link').href = '/b/' + tok; }
    $('booking').hidden = !tok;
    $('ask').hidden = false;
    $('acked').hidden = true;
    $('nothing').hidden = true;
    if (v.acked) { answered(''); }
    screen('view');
  }

  async function load() {
    if (!token) {
      screen('gone');
      return;
    }
    screen('loading');
    var r = await R.api('GET', api, undefined, opts);
    if (r.status === 404) {
      screen('gone');
      return;
    }
    // A reminder cancelled before it was ever sent has nothing to show; one that was sent can
    // still be answered.
    if (r.status === 200 && r.data && r.data.status === 'cancelled' && !r.data.occurrence) {
      screen('gone');
      return;
    }
    if (r.status === 200 && r.data) {
      v = r.data;
      render();
      return;
    }
    $('failed-text').textContent = R.problem(r);
    screen('failed');
  }

  $('listen').addEventListener('click', function () {
    show($('listen-error'), '');
    if (!R.play(this, { url: v.audioUrl, text: v.speakText || v.text }, $('audio'))) {
      show($('listen-error'), msg.noVoice);
    }
  });

  $('done').addEventListener('click', async function () {
    var btn = this;
    btn.disabled = true;
    btn.textContent = msg.sending;
    show($('done-error'), '');
    var r = await R.api('POST', api + '/ack', { occurrence: v.occurrence || '' }, opts);
    btn.disabled = false;
    btn.textContent = $('done').getAttribute('data-label');
    if (r.status === 200 && r.data) {
      v.acked = true;
      answered(r.data.at);
      $('acked').focus();
      return;
    }
    var code = r.data && r.data.error && r.data.error.code;
    // Nothing has been sent yet (a link opened before its first time): nothing to confirm.
    if (code === 'nothing_to_acknowledge' || (!v.occurrence && r.status >= 400 && r.status < 500)) {
      $('ask').hidden = true;
      $('nothing').hidden = false;
      $('nothing').focus();
      return;
    }
    if (r.status === 404) {
      screen('gone');
      return;
    }
    show($('done-error'), R.problem(r));
  });
  $('done').setAttribute('data-label', $('done').textContent);

  $('retry').addEventListener('click', load);
  load();
}());
