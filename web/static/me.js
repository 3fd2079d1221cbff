// My page (/me): greets the signed-in senior by name and shows their groups and the messages they
// agreed to, from /api/me (the httpOnly session cookie goes along by itself). Without a session
// it explains how to get one. The senior's family links are listed there too: each can be
// revoked (a second tap confirms), and a new one is made with a label and a scope; its URL is
// shown once, to copy; one that asks for alerts may name the relative's phone. Above them, "my
// reminders" (rem.js): each in words, to listen to, pause or cancel, and a second screen to add
// one. Below them, "my bookings" of doctor Q&A sessions, each linking to its booking page, and a
// link to /sessions to book another. Everything from the API is inserted with textContent,
// never as HTML.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var lang = document.documentElement.lang || 'zh-CN';
  var msg = JSON.parse($('msg').textContent);
  var SCREENS = ['loading', 'failed', 'signedout', 'me', 'rem-add'];
  var R = window.YLRem;
  var reminders = R.list({ base: '/api/me/reminders', edit: true });

  function screen(id) {
    SCREENS.forEach(function (s) { $(s).hidden = s !== id; });
  }

  function fill(template, key, value) {
    return template.split('{' + key + '}').join(value);
  }

  // phone shows the masked number the way it is printed on a bill: no +86 for a mainland number.
  function phone(p) {
    return String(p || '').replace(/^\+86\s*/, '');
  }

  function group(g) {
    var li = $('group-tpl').content.firstElementChild.cloneNode(true);
    li.querySelector('.g-name').textContent = g.name;
    var badge = li.querySelector('.g-status');
    badge.textContent = msg[g.status] || g.status;
    if (g.status !== 'active') { badge.className += ' wait'; }
    li.querySelector('.g-help').hidden = g.status !== 'pending_approval';
    return li;
  }

  // day prints an API timestamp as a date in the senior's time zone ("2026年12月23日").
  function day(ts) {
    var d = new Date(ts);
    if (!ts || isNaN(d.getTime())) { return ''; }
    try {
      return new Intl.DateTimeFormat(lang, { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'Asia/Shanghai' }).format(d);
    } catch (e) {
      return String(ts).slice(0, 10);
    }
  }

  // api calls the JSON API with the session cookie; it resolves to {status, data}, with status 0
  // when the network failed.
  async function api(method, path, body) {
    var headers = { 'Accept': 'application/json', 'Accept-Language': lang };
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
    var res;
    try {
      res = await fetch(path, {
        method: method, headers: headers, cache: 'no-store', credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body)
      });
    } catch (e) {
      return { status: 0, data: null };
    }
    var data = null;
    try { data = await res.json(); } catch (e) { /* 204, or not JSON */ }
    return { status: res.status, data: data };
  }

  // problem is the words for a failed call: the API's own message, else ours.
  function problem(r) {
    if (r.status === 0) { return msg.network; }
    var e = (r.data && r.data.error) || {};
    return e.code && e.message ? e.message : msg.server;
  }

  function linksEmpty() {
    $('links-empty').hidden = $('links').children.length > 0;
  }

  function link(l) {
    var li = $('link-tpl').content.firstElementChild.cloneNode(true);
    li.querySelector('.l-label').textContent = l.label;
    li.querySelector('.l-scope').textContent = msg[l.scope] || l.scope;
    li.querySelector('.l-alerts').hidden = !l.alerts;
    if (l.alertPhone) { li.querySelector('.l-alerts').textContent += ' ' + phone(l.alertPhone); }
    li.querySelector('.l-expires').textContent = fill(msg.expires, 'date', day(l.expiresAt));
    li.querySelector('.l-used').textContent = l.lastUsedAt ? fill(msg.used, 'date', day(l.lastUsedAt)) : msg.never;
    var btn = li.querySelector('.l-revoke');
    var armed = false;
    btn.addEventListener('click', async function () {
      // The first tap asks; only a second, deliberate tap revokes.
      if (!armed) {
        armed = true;
        btn.textContent = msg.revokeConfirm;
        return;
      }
      btn.disabled = true;
      $('links-error').hidden = true;
      var r = await api('DELETE', '/api/me/family-links/' + encodeURIComponent(l.id));
      // 404: already gone (revoked on another phone, or expired): gone all the same.
      if (r.status === 204 || r.status === 404) {
        li.remove();
        linksEmpty();
        return;
      }
      btn.disabled = false;
      armed = false;
      btn.textContent = msg.revoke;
      $('links-error').textContent = problem(r);
      $('links-error').hidden = false;
    });
    return li;
  }

  function renderLinks(links) {
    var list = $('links');
    list.textContent = '';
    (links || []).forEach(function (l) { list.appendChild(link(l)); });
    linksEmpty();
  }

  async function createLink(ev) {
    ev.preventDefault();
    var form = $('link-form');
    var err = $('link-form-error');
    var btn = $('link-submit');
    err.hidden = true;
    btn.disabled = true;
    var scope = form.querySelector('input[name="scope"]:checked');
    var body = {
      label: $('link-label').value.trim(),
      scope: scope ? scope.value : 'view',
      alerts: $('link-alerts').checked
    };
    var phoneNo = $('alert-phone').value.trim();
    if (body.alerts && phoneNo) { body.alertPhone = phoneNo; }
    var r = await api('POST', '/api/me/family-links', body);
    btn.disabled = false;
    $('alert-phone').removeAttribute('aria-invalid');
    if (r.status !== 201 || !r.data) {
      err.textContent = problem(r);
      err.hidden = false;
      if (r.data && r.data.error && r.data.error.field === 'alertPhone') {
        $('alert-phone').setAttribute('aria-invalid', 'true');
        $('alert-phone').focus();
      }
      return;
    }
    var l = r.data;
    $('links').insertBefore(link(l), $('links').firstChild);
    linksEmpty();
    $('created-url').textContent = l.url || '';
    $('created-once').textContent = fill(msg.once, 'label', l.label);
    $('copy-status').hidden = true;
    form.reset();
    $('alert-phone-field').hidden = true;
    form.hidden = true;
    $('created').hidden = false;
    $('created-h').focus();
  }

  // selectURL selects the link's text, for a long press to copy where the clipboard API is not
  // there (older WeChat WebViews, plain http).
  function selectURL() {
    var range = document.createRange();
    range.selectNodeContents($('created-url'));
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  async function copy() {
    var status = $('copy-status');
    var url = $('created-url').textContent;
    var done = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(url);
        done = true;
      } catch (e) { /* refused: select instead */ }
    }
    if (!done) { selectURL(); }
    status.textContent = done ? msg.copied : msg.copySelect;
    status.hidden = false;
  }

  function closeCreated() {
    $('created').hidden = true;
    $('created-url').textContent = '';
    $('link-form').hidden = false;
  }

  async function render(me) {
    var m = me.member || {};
    $('greeting').textContent = fill(msg.greeting, 'name', m.name || '');
    $('phone').textContent = m.phone ? fill(msg.phone, 'phone', phone(m.phone)) : '';
    var list = $('groups');
    list.textContent = '';
    (me.groups || []).forEach(function (g) { list.appendChild(group(g)); });
    $('groups-empty').hidden = list.children.length > 0;
    ['service', 'health', 'marketing'].forEach(function (k) {
      var c = (me.consents || {})[k];
      $('consent-' + k).textContent = c && c.granted ? msg.yes : msg.no;
    });
    renderLinks(me.familyLinks);
    if (m.timeZone) { R.tz = R.ruleTZ = m.timeZone; }
    // The lists before the page: nothing moves under the senior's finger once it shows.
    await Promise.all([reminders.load(), loadBookings()]);
    screen('me');
  }

  // loadBookings lists the senior's Q&A bookings from now on, each linking to its booking page
  // (listen, cancel); new ones are made on /sessions.
  async function loadBookings() {
    var ul = $('bookings'), r = await R.api('GET', '/api/me/bookings');
    ul.textContent = '';
    R.show($('book-error'), r.status === 200 ? '' : problem(r));
    ((r.data && r.data.bookings) || []).forEach(function (b) {
      if (b.status !== 'confirmed' && b.status !== 'waitlisted') { return; }
      var li = $('book-tpl').content.firstElementChild.cloneNode(true), q = function (c) { return li.querySelector('.' + c); };
      var d = b.doctor || {}; // the doctor's name, or the doctor as on a session
      q('b-doctor').textContent = typeof d === 'string' ? d : [d.name, d.title].filter(Boolean).join(' ');
      q('b-title').textContent = b.title || '';
      q('b-when').textContent = b.when || R.when(b.startAt, b.timeZone);
      q('b-state').textContent = b.status === 'confirmed' ? msg.booked : fill(msg.waitPos, 'n', String(b.position || ''));
      if (b.status !== 'confirmed') { q('b-state').className += ' wait'; }
      var tok = String(b.link || '').split('/b/')[1];
      if (tok) { q('b-link').href = '/b/' + tok; } else { q('b-link').remove(); }
      ul.appendChild(li);
    });
    $('book-empty').hidden = r.status !== 200 || ul.children.length > 0;
  }

  // ---------------------------------------------------------------- adding a reminder

  function openAdd() {
    $('rem-status').hidden = true;
    screen('rem-add');
    $('rem-add-h').focus();
  }

  function closeAdd() {
    screen('me');
    $('rem-open').focus();
  }

  async function addReminder(ev) {
    ev.preventDefault();
    var f = $('rem-form'), box = $('rem-form-error'), btn = $('rem-save');
    var d = R.draft(f);
    if (d.error) {
      R.fieldError(f, box, d.error, d.field);
      return;
    }
    R.fieldError(f, box, '');
    btn.disabled = true;
    btn.textContent = msg.remSaving;
    var r = await R.api('POST', '/api/me/reminders', d.draft, { headers: { 'Idempotency-Key': R.key(d.draft) } });
    btn.disabled = false;
    btn.textContent = $('rem-save').getAttribute('data-label');
    if (r.status < 200 || r.status > 299 || !r.data) {
      R.fieldError(f, box, problem(r), r.data && r.data.error && r.data.error.field);
      return;
    }
    R.keyUsed();
    R.clearForm(f);
    reminders.add(r.data);
    screen('me');
    R.show($('rem-status'), msg.remSaved);
    $('rem-h').scrollIntoView();
  }

  async function load() {
    screen('loading');
    var res;
    try {
      res = await fetch('/api/me', {
        headers: { 'Accept': 'application/json', 'Accept-Language': lang },
        cache: 'no-store', credentials: 'same-origin'
      });
    } catch (e) {
      $('failed-text').textContent = msg.network;
      screen('failed');
      return;
    }
    if (res.status === 401) {
      screen('signedout');
      return;
    }
    var data = {};
    try { data = await res.json(); } catch (e) { /* empty or not JSON */ }
    if (res.status === 200) {
      render(data || {});
      return;
    }
    // API Gateway's own errors (429, 5xx) have no code and English text only.
    var e = (data && data.error) || {};
    $('failed-text').textContent = e.code && e.message ? e.message : msg.server;
    screen('failed');
  }

  $('retry').addEventListener('click', load);
  $('link-form').addEventListener('submit', createLink);
  $('copy').addEventListener('click', copy);
  $('created-done').addEventListener('click', closeCreated);
  $('link-alerts').addEventListener('change', function () { $('alert-phone-field').hidden = !this.checked; });
  R.form($('rem-form'));
  $('rem-save').setAttribute('data-label', $('rem-save').textContent);
  $('rem-form').addEventListener('submit', addReminder);
  $('rem-open').addEventListener('click', openAdd);
  $('rem-back').addEventListener('click', closeAdd);
  load();
}());
