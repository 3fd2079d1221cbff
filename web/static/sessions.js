// The sessions page (/sessions): the doctor Q&A sessions the signed-in senior may book, each in
// large type with its seats left; one tap on "预约" books and the confirmation shows in place
// (seslist.js). The session cookie goes along by itself; without one, the page says how to get
// in (the join link or the SMS link, again). Uses rem.js and seslist.js.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem;
  var SCREENS = ['loading', 'failed', 'signedout', 'view'];
  var path = function (s) { return '/api/sessions/' + encodeURIComponent(s.id) + '/bookings'; };

  function screen(id) {
    SCREENS.forEach(function (s) { $(s).hidden = s !== id; });
  }

  var list = R.sessions({
    base: '/api/sessions',
    book: function (s) { return { path: path(s), body: {} }; },
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
