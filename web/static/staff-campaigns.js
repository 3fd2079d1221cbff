// /admin/campaigns: the store's pushes for staff. The campaigns (newest first, with their status
// and send time); a form that creates one — an offer with a price per tier in yuan (sent in fen)
// and its pickup window, or health content sent so many days running — to chosen groups,
// narrowed by tier, age and tags, by SMS, voice or WeCom, now or later; the body's counter says
// how much the channel carries and why. One campaign in detail: its figures as a plain table,
// refreshed every 5 s while it is sending and never otherwise, and a cancel that asks once more.
// An API error shows next to the field it names. What the API returns goes in with textContent,
// never as HTML. Uses rem.js and staff.js (the token, the sign-in form).
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem, msg = R.msg, fill = R.fill, show = R.show;
  var call = R.call, ok = R.ok, enc = encodeURIComponent;
  var LIMITS = { sms: 45, voice: 120, wecom: 500 }; // promo.MaxSMSBody, MaxVoiceBody, MaxWeComBody
  var STATS = ['audience', 'queued', 'deferred', 'sent', 'failed', 'skipped', 'opened', 'unsubscribed'];
  var REASONS = ['budget', 'no_consent', 'opted_out', 'unverified', 'channel', 'quota'];
  var TIERS = ['member', 'leader', 'partner'];
  var REFRESH = 5000;
  var form = $('create'), cursor = '', current = null, timer = 0;

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
    return new Date(wall - offset(wall - offset(wall))).toISOString().replace('.000Z', 'Z');
  }

  // plusDays is the date n days after date ("2026-11-25").
  function plusDays(date, n) {
    var p = date.split('-').map(Number);
    return new Date(Date.UTC(p[0], p[1] - 1, p[2] + n)).toISOString().slice(0, 10);
  }

  function yuan(fen) { return '¥' + (fen / 100).toFixed(2); }

  function status(c) { return msg['st_' + c.status] || c.status || ''; }

  // ---------------------------------------------------------------- the list

  function row(c) {
    var li = tpl('camp-tpl'), q = function (k) { return li.querySelector('.' + k); };
    q('c-title').textContent = c.title || '';
    q('c-when').textContent = fill(msg.sendAt, { when: R.when(c.sendAt) });
    q('c-facts').textContent = [msg['kind_' + c.kind], msg['ch_' + c.channel]].filter(Boolean).join(' · ');
    q('c-status').textContent = status(c);
    q('c-status').classList.toggle('wait', c.status !== 'sent');
    q('c-open').addEventListener('click', function () { openDetail(c.id); });
    return li;
  }

  async function loadCampaigns(next) {
    var ul = $('campaigns');
    if (!next) { ul.textContent = ''; cursor = ''; }
    show($('campaigns-status'), msg.loading);
    var a = await call('GET', '/api/admin/campaigns' + (cursor ? '?cursor=' + enc(cursor) : ''));
    (ok(a) && a.data.campaigns || []).forEach(function (c) { ul.appendChild(row(c)); });
    cursor = ok(a) && a.data.cursor || '';
    $('campaigns-more').hidden = !cursor;
    show($('campaigns-status'), !ok(a) ? R.problem(a) : ul.children.length ? '' : msg.empty);
  }
  $('campaigns-more').addEventListener('click', function () { loadCampaigns(true); });

  // loadGroups lists the store's groups as the audience's choices (a store has a handful).
  async function loadGroups() {
    var box = $('c-groups'), next = '', pages = 0, a;
    box.textContent = '';
    show($('c-groups-status'), msg.loading);
    do {
      a = await call('GET', '/api/admin/groups' + (next ? '?cursor=' + enc(next) : ''));
      (ok(a) && a.data.items || []).forEach(function (g) {
        var label = box.appendChild(R.el('label', '', 'chip')), input = label.appendChild(document.createElement('input'));
        input.type = 'checkbox';
        input.name = 'groups';
        input.value = g.id;
        label.appendChild(R.el('span', g.name));
      });
      next = ok(a) && a.data.cursor || '';
    } while (next && ++pages < 10);
    show($('c-groups-status'), !ok(a) ? R.problem(a) : box.children.length ? '' : msg.groupsEmpty);
  }

  // ---------------------------------------------------------------- the form

  function checked(name) {
    return Array.prototype.filter.call(form.querySelectorAll('input[name="' + name + '"]'), function (x) { return x.checked; })
      .map(function (x) { return x.value; });
  }

  function bodyText() { return form.elements.body.value.replace(/\s*\n\s*/g, ' ').trim(); }

  // count says how much of the channel's room the body uses, and by how much it is over.
  function count() {
    var ch = form.elements.channel.value, max = LIMITS[ch], n = Array.from(bodyText()).length;
    $('c-body-help').textContent = fill(msg['help_' + ch], { n: max });
    $('c-count').textContent = n > max ? fill(msg.countOver, { n: n - max, max: max }) : fill(msg.count, { n: n, max: max });
    $('c-count').classList.toggle('alert', n > max);
    return n <= max;
  }

  function sync() {
    var kind = form.elements.kind.value, later = form.elements.when.value === 'later';
    form.querySelectorAll('[data-for]').forEach(function (el) {
      el.hidden = el.dataset.for !== kind && el.dataset.for !== (later ? 'later' : '');
    });
    count();
  }
  form.addEventListener('change', sync);
  form.elements.body.addEventListener('input', count);

  function clearErrors() {
    form.querySelectorAll('.field-error').forEach(function (p) { show(p, ''); });
    form.querySelectorAll('[aria-invalid]').forEach(function (x) { x.removeAttribute('aria-invalid'); });
    show($('create-error'), '');
  }

  // fieldError shows text next to the field the API named ("offer.prices.member" shows by the
  // prices, on the member's price), or above the button when no visible field has that name.
  function fieldError(field, text) {
    var name = /^[\w.]+$/.test(field || '') ? field : '', key = '', box = null;
    while (name) {
      box = form.querySelector('[data-field="' + name + '"]');
      if (box && !box.closest('[hidden]')) { break; }
      box = null;
      key = name.slice(name.lastIndexOf('.') + 1);
      name = name.indexOf('.') > 0 ? name.slice(0, name.lastIndexOf('.')) : '';
    }
    if (!box) {
      show($('create-error'), text);
      return;
    }
    show(box.querySelector(':scope > .field-error'), text);
    var input = key && box.querySelector('[data-key="' + key + '"]') || box.querySelector('input:not([type=radio]):not([type=checkbox]), textarea, select') || box.querySelector('input');
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  }

  // draft is the body the form describes, or null after saying what is missing.
  function draft() {
    var e = form.elements, tz = R.tz, at = /^\d\d:\d\d$/, day = /^\d{4}-\d\d-\d\d$/;
    var d = {
      kind: e.kind.value, title: e.title.value.trim(), body: bodyText(), channel: e.channel.value,
      audience: {
        groups: checked('groups'), tiers: checked('tiers'), ageBands: checked('ageBands'), match: e.match.value,
        tags: e.tags.value.split(/[,，、]/).map(function (t) { return t.trim(); }).filter(Boolean)
      }
    };
    if (e.imageUrl.value.trim()) { d.imageUrl = e.imageUrl.value.trim(); }
    if (!count()) {
      fieldError('body', $('c-count').textContent);
      return null;
    }
    if (d.kind === 'promotion') {
      var prices = {}, bad = '';
      TIERS.forEach(function (t) {
        var v = form.querySelector('[data-key="' + t + '"]').value.replace(/[¥￥元\s]/g, '');
        if (!/^\d+(\.\d{1,2})?$/.test(v)) { bad = bad || t; return; }
        prices[t] = Math.round(parseFloat(v) * 100);
      });
      if (bad) {
        fieldError('offer.prices.' + bad, msg.priceInvalid);
        return null;
      }
      if (!day.test(e.fromDate.value) || !at.test(e.fromTime.value)) { fieldError('offer.pickupFrom', msg.timeMissing); return null; }
      if (!day.test(e.untilDate.value) || !at.test(e.untilTime.value)) { fieldError('offer.pickupUntil', msg.timeMissing); return null; }
      d.offer = {
        prices: prices, pickupPlace: e.pickupPlace.value.trim(),
        pickupFrom: instant(e.fromDate.value, e.fromTime.value, tz), pickupUntil: instant(e.untilDate.value, e.untilTime.value, tz)
      };
    } else {
      d.days = parseInt(e.days.value, 10) || 1;
    }
    if (e.when.value === 'later') {
      if (!day.test(e.sendDate.value) || !at.test(e.sendTime.value)) { fieldError('sendAt', msg.timeMissing); return null; }
      d.sendAt = instant(e.sendDate.value, e.sendTime.value, tz);
    }
    return d;
  }

  function resetDates() {
    var today = R.today();
    form.elements.fromDate.value = form.elements.sendDate.value = today;
    form.elements.untilDate.value = plusDays(today, 6);
  }

  form.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var btn = form.querySelector('button[type=submit]');
    show($('create-ok'), '');
    clearErrors();
    var d = draft();
    if (!d) { return; }
    btn.disabled = true;
    // One key per submission: a retry on a weak signal sends the same body with the same key and
    // makes one campaign; a changed body is a new submission with a new key.
    var a = await call('POST', '/api/admin/campaigns', d, { 'Idempotency-Key': R.key(d) });
    btn.disabled = false;
    if (!ok(a)) {
      fieldError(a.data && a.data.error && a.data.error.field, R.problem(a));
      return;
    }
    R.keyUsed();
    form.reset();
    resetDates();
    sync();
    show($('create-ok'), fill(msg.created, { title: a.data.title || d.title }));
    loadCampaigns();
  });

  // ---------------------------------------------------------------- one campaign

  // live: its figures are moving — it is sending, or due and about to.
  function live(c) {
    return c.status === 'sending' || (c.status === 'scheduled' && new Date(c.sendAt).getTime() <= Date.now());
  }

  function table(id, keys, prefix, values) {
    var body = $(id);
    body.textContent = '';
    keys.forEach(function (k) {
      var tr = body.appendChild(document.createElement('tr')), th = tr.appendChild(R.el('th', msg[prefix + k]));
      th.scope = 'row';
      tr.dataset.stat = k;
      tr.appendChild(R.el('td', String(values[k] || 0)));
    });
  }

  function drawDetail() {
    var c = current, o = c.offer, s = c.stats || {};
    $('d-title').textContent = c.title || '';
    $('d-state').textContent = status(c) + ' · ' + fill(msg.sendAt, { when: R.when(c.sendAt) });
    $('d-facts').textContent = [msg['kind_' + c.kind], msg['ch_' + c.channel], c.days > 1 ? fill(msg.daysOf, { n: c.days }) : '']
      .filter(Boolean).join(' · ');
    $('d-body').textContent = c.body || '';
    $('d-offer').textContent = !o ? '' : [
      [msg.priceMember + ' ' + yuan(o.prices.member), msg.priceLeader + ' ' + yuan(o.prices.leader), msg.pricePartner + ' ' + yuan(o.prices.partner)].join(' · '),
      fill(msg.pickup, { place: o.pickupPlace || msg.inStore, when: fill(msg.fromUntil, { from: R.when(o.pickupFrom), until: R.when(o.pickupUntil) }) })
    ].join('。');
    table('d-stats', STATS, 'stat_', s);
    table('d-suppressed', REASONS, 'sup_', s.suppressed || {});
    // A sent campaign may still hold messages for the end of quiet hours: those can be stopped.
    var pending = (s.queued || 0) - (s.sent || 0) - (s.failed || 0) - (s.skipped || 0);
    $('d-cancel-box').hidden = c.status !== 'scheduled' && c.status !== 'sending' && !(c.status === 'sent' && pending > 0);
    // Said once, not at every refresh: a screen reader re-reads a live region whenever it is set.
    var note = live(c) ? msg.auto : '';
    if ($('d-status').textContent !== note) { show($('d-status'), note); }
  }

  // refresh reads the campaign again; while it is live, again in REFRESH ms. It changes nothing
  // the user is doing: the figures update in place, the focus stays where it is.
  async function refresh() {
    clearTimeout(timer);
    timer = 0;
    if (!current) { return; }
    var id = current.id;
    if (!document.hidden) {
      var a = await call('GET', '/api/admin/campaigns/' + enc(id));
      if (!current || current.id !== id) { return; }
      show($('d-error'), ok(a) ? '' : R.problem(a));
      if (ok(a)) {
        current = a.data;
        drawDetail();
      }
    }
    if (current && live(current)) { timer = setTimeout(refresh, REFRESH); }
  }
  $('d-refresh').addEventListener('click', refresh);

  var armed = false;
  function disarm() {
    armed = false;
    $('d-cancel').textContent = msg.cancel;
  }

  async function openDetail(id) {
    $('list-view').hidden = true;
    $('detail').hidden = false;
    show($('d-ok'), '');
    show($('d-error'), '');
    disarm();
    show($('d-status'), msg.loading);
    var a = await call('GET', '/api/admin/campaigns/' + enc(id));
    if (!ok(a)) {
      show($('d-status'), R.problem(a));
      return;
    }
    current = a.data;
    var u = new URLSearchParams(location.search);
    u.set('id', id);
    history.replaceState(null, '', '?' + u);
    drawDetail();
    $('d-title').focus();
    if (live(current)) { timer = setTimeout(refresh, REFRESH); }
  }

  $('d-cancel').addEventListener('click', async function () {
    var btn = this;
    // The first tap asks; only a second, deliberate tap stops the campaign.
    if (!armed) {
      armed = true;
      btn.textContent = msg.cancelConfirm;
      return;
    }
    btn.disabled = true;
    var a = await call('POST', '/api/admin/campaigns/' + enc(current.id) + '/cancel', {});
    btn.disabled = false;
    disarm();
    show($('d-error'), ok(a) ? '' : R.problem(a));
    if (!ok(a)) { return; }
    var c = a.data.campaign || a.data;
    current.status = c.status || 'cancelled';
    if (c.stats) { current.stats = c.stats; }
    drawDetail();
    show($('d-ok'), msg.cancelled);
  });

  $('back').addEventListener('click', function () {
    clearTimeout(timer);
    timer = 0;
    current = null;
    $('detail').hidden = true;
    $('list-view').hidden = false;
    var u = new URLSearchParams(location.search);
    u.delete('id');
    history.replaceState(null, '', location.pathname + (String(u) ? '?' + u : ''));
    loadCampaigns();
  });

  resetDates();
  sync();
  R.staff(function () {
    loadGroups();
    loadCampaigns();
    var id = new URLSearchParams(location.search).get('id');
    if (id) { openDetail(id); }
  });
}());
