// The booking page (/b/{token}): where every message about a booking links. The session in large
// type, whether the seat is confirmed, the place in the queue or cancelled, "听一听 / Listen" (the
// phone's own voice reads it out), and one big cancel button that asks once more before it
// cancels. No sign-in: the token is the credential, read from the path and sent only to
// /api/b/{token} (no Referer anywhere). Uses rem.js; API text goes in with textContent.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem, msg = R.msg, fill = R.fill, show = R.show;
  var SCREENS = ['loading', 'failed', 'gone', 'view'];
  var token = decodeURIComponent((location.pathname.split('/b/')[1] || '').split('/')[0]);
  var api = '/api/b/' + encodeURIComponent(token);
  var opts = { creds: 'omit' };
  var v = {}, armed = false;

  function screen(id) {
    SCREENS.forEach(function (s) { $(s).hidden = s !== id; });
  }

  function place(p) {
    p = p || {};
    return fill(msg.place, { place: p.address || (p.kind === 'online' ? msg.online : msg.inStore) });
  }

  function doctor(d) {
    d = d || {};
    return [d.name, d.title].filter(Boolean).join(' ') + (d.speciality ? ' · ' + d.speciality : '');
  }

  // state is what the page says about the booking: [heading, text].
  function state() {
    var s = v.session || {}, b = v.booking || {};
    if (s.status === 'cancelled') { return [msg.sesCancelled, msg.sesCancelledText]; }
    if (b.status === 'cancelled') { return [msg.cancelled, msg.cancelledText]; }
    if (new Date(s.startAt).getTime() <= Date.now()) { return [msg.past, '']; }
    if (b.status === 'waitlisted') { return [fill(msg.waitlisted, { n: b.position || '' }), msg.waitlistedText]; }
    return [msg.confirmed, msg.confirmedText];
  }

  function render() {
    var s = v.session || {}, b = v.booking || {}, st = state();
    R.tz = s.timeZone || R.tz;
    $('who').textContent = v.memberName ? fill(msg['for'], { name: v.memberName }) : '';
    $('when').textContent = s.when || R.when(s.startAt, s.timeZone);
    $('title').textContent = s.title || '';
    $('doctor').textContent = doctor(s.doctor);
    $('place').textContent = place(s.place);
    $('state-h').textContent = st[0];
    show($('state-t'), st[1]);
    var can = s.status !== 'cancelled' && (b.status === 'confirmed' || b.status === 'waitlisted') &&
      new Date(s.startAt).getTime() > Date.now();
    $('cancel').hidden = $('cancel-help').hidden = !can;
    $('again').hidden = b.status !== 'cancelled' || s.status === 'cancelled';
    $('cancel').textContent = msg.cancel;
    armed = false;
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
    if (r.status === 200 && r.data && r.data.session) {
      v = r.data;
      render();
      return;
    }
    $('failed-text').textContent = R.problem(r);
    screen('failed');
  }

  $('listen').addEventListener('click', function () {
    var s = v.session || {}, st = state();
    var text = [fill(msg.speak, { when: $('when').textContent, title: s.title || '', doctor: doctor(s.doctor), place: place(s.place) }),
      st[0], st[1]].filter(Boolean).join(msg.sep);
    show($('listen-error'), '');
    if (!R.play(this, { text: text })) { show($('listen-error'), msg.noVoice); }
  });

  $('cancel').addEventListener('click', async function () {
    var btn = this;
    // The first tap asks; only a second, deliberate tap cancels.
    if (!armed) {
      armed = true;
      btn.textContent = msg.cancelConfirm;
      return;
    }
    btn.disabled = true;
    btn.textContent = msg.sending;
    show($('cancel-error'), '');
    var r = await R.api('POST', api + '/cancel', {}, opts);
    btn.disabled = false;
    if (r.status === 200 && r.data && r.data.booking) {
      v.booking = r.data.booking;
      render();
      $('state').focus();
      return;
    }
    if (r.status === 404) {
      screen('gone');
      return;
    }
    armed = false;
    btn.textContent = msg.cancel;
    show($('cancel-error'), R.problem(r));
  });

  $('retry').addEventListener('click', load);
  load();
}());
