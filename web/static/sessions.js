// The sessions page (/sessions): the doctor Q&A sessions the signed-in senior may book, each in
// large type with its seats left; one tap on "预约" books and the confirmation shows in place
// (seslist.js). A question is optional, typed or recorded (recorder.js): the clip is uploaded when
// the senior books (POST /api/me/voice-uploads, then straight to S3), and the booking names it.
// The session cookie goes along by itself; without one, the page says how to get in (the join
// link or the SMS link, again). Uses rem.js, recorder.js and seslist.js.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem;
  var SCREENS = ['loading', 'failed', 'signedout', 'view'];
  var path = function (s) { return '/api/sessions/' + encodeURIComponent(s.id) + '/bookings'; };
  var rec = $('q-rec'), play = $('rec-play'), del = $('rec-del');

  function screen(id) {
    SCREENS.forEach(function (s) { $(s).hidden = s !== id; });
  }

  // The page has one recorder; it moves into the question box opened last, its clip with it. A
  // box that has closed since was booked with its clip (seslist.js closes it then), so the next
  // box starts without one. Capture: this runs before seslist.js opens the box.
  $('ses-list').addEventListener('click', function (ev) {
    var at = ev.target.closest('.s-ask, .s-q'), box = at && at.closest('li').querySelector('.s-q');
    if (!box || rec.parentNode === box && !box.hidden) { return; }
    if (rec.parentNode.hidden) { R.clipClear(); }
    box.appendChild(rec);
  }, true);

  // "删掉录音" shows while there is a recording to hear, as the player does.
  new MutationObserver(function () { del.hidden = play.hidden; }).observe(play, { attributes: true, attributeFilter: ['hidden'] });
  del.addEventListener('click', function () {
    R.clipClear();
    $('rec').focus();
  });

  var list = R.sessions({
    base: '/api/sessions',
    // A recording in the open question box goes first; null (not booked) when it could not.
    book: async function (s, li) {
      var req = { path: path(s), body: {} }, box = li.querySelector('.s-q');
      if (box.hidden || !box.contains(rec)) { return req; }
      var key = await R.clip('/api/me/voice-uploads', undefined, li.querySelector('.s-error'), li.querySelector('.s-book'));
      if (key === null) { return null; }
      if (key) { req.body.questionClipKey = key; }
      return req;
    },
    cancel: function (s) { return path(s) + '/me'; },
    edit: true,
    on401: true
  });

  async function load() {
    screen('loading');
    var a = await list.load();
    if (a.status === 401) {
      screen('signedout');
      return;
    }
    if (a.status === 200) {
      screen('view');
      return;
    }
    $('failed-text').textContent = R.problem(a);
    screen('failed');
  }

  $('retry').addEventListener('click', load);
  load();
}());
