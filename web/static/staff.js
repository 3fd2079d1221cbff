// staff.js, for the staff Q&A pages (/admin/sessions and its digest): the staff token — /admin's,
// kept in sessionStorage, never in a URL — the sign-in form, calls to the admin API with the
// token (a 401 signs the page out), and the small helpers both pages draw with. Extends
// window.YLRem (rem.js, loaded first).
(function () {
  'use strict';

  var KEY = 'yinling.staffToken';
  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem, msg = R.msg, show = R.show, mem = '';

  function getToken() {
    try { return sessionStorage.getItem(KEY) || mem; } catch (e) { return mem; }
  }
  function setToken(t) {
    mem = t;
    try {
      if (t) { sessionStorage.setItem(KEY, t); } else { sessionStorage.removeItem(KEY); }
    } catch (e) { /* mem is enough for this page's life */ }
  }

  function signOut(why) {
    setToken('');
    $('app').hidden = true;
    $('signin').hidden = false;
    show($('alert'), why || '');
  }

  // call calls the admin API with the token and the headers in more.
  R.call = function (method, path, body, more) {
    var h = { 'Authorization': 'Bearer ' + getToken() };
    Object.keys(more || {}).forEach(function (k) { h[k] = more[k]; });
    return R.api(method, path, body, { headers: h, on401: function () { signOut(msg.tokenExpired); } });
  };
  R.ok = function (a) { return a.status >= 200 && a.status < 300 && a.data; };

  R.el = function (tag, text, cls) {
    var e = document.createElement(tag);
    e.textContent = text;
    if (cls) { e.className = cls; }
    return e;
  };

  // doctor says who answers: "李建国 主任医师 · 心血管内科".
  R.doctor = function (d) {
    d = d || {};
    return [d.name, d.title].filter(Boolean).join(' ') + (d.speciality ? ' · ' + d.speciality : '');
  };

  R.place = function (p) {
    p = p || {};
    return R.fill(msg.place, { place: p.address || (p.kind === 'online' ? msg.online : msg.inStore) });
  };

  // staff runs start once the page has a token: at once, or after the form takes one.
  R.staff = function (start) {
    function signIn() {
      $('signin').hidden = true;
      show($('alert'), '');
      start();
      R.idle(function () { $('app').hidden = !getToken(); });
    }
    $('token-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var t = $('token').value.trim().replace(/^Bearer\s+/i, '');
      show($('token-error'), t ? '' : msg.tokenMissing);
      if (t) {
        this.reset();
        setToken(t);
        signIn();
      }
    });
    $('sign-out').addEventListener('click', function () { signOut(''); });
    if (getToken()) { signIn(); } else { $('token').focus(); }
  };
}());
