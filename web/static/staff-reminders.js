// Staff reminders page (/admin/reminders): the queues (a dead-letter queue with anything in it
// stands out), the alerts that reached staff, one member's reminders with each one's delivery
// status (occurrences, attempts, states), one form that adds a reminder for that member or sends
// one to their whole group, and — in local development only — the outbox of what would have been sent.
// The staff token is the one /admin keeps in sessionStorage (never in a URL). Uses rem.js; what
// the API returns goes in with textContent, never as HTML.
(function () {
  'use strict';

  var KEY = 'yinling.staffToken';
  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem, msg = R.msg, fill = R.fill, show = R.show;
  var memToken = '';
  var bcID = '';

  function getToken() {
    try { return sessionStorage.getItem(KEY) || memToken; } catch (e) { return memToken; }
  }
  function setToken(t) {
    memToken = t;
    try {
      if (t) { sessionStorage.setItem(KEY, t); } else { sessionStorage.removeItem(KEY); }
    } catch (e) { /* memToken is enough for this page's life */ }
  }

  // api calls the admin API with the token; a 401 signs the page out.
  function api(method, path, body, headers) {
    var h = { 'Authorization': 'Bearer ' + getToken() };
    Object.keys(headers || {}).forEach(function (k) { h[k] = headers[k]; });
    return R.api(method, path, body, { headers: h, on401: function () { signOut(msg.tokenExpired); } });
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    e.textContent = text;
    if (cls) { e.className = cls; }
    return e;
  }

  // occ turns an occurrence id ("20261123T0000Z") into an instant.
  function occ(id) {
    var m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z$/.exec(id || '');
    return m ? Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5]) : id;
  }

  // ---------------------------------------------------------------- sign in and out

  function signIn() {
    $('signin').hidden = true;
    $('app').hidden = false;
    show($('alert'), '');
    loadQueues();
    loadAlerts();
    loadGroups();
    loadOutbox();
  }

  function signOut(why) {
    setToken('');
    $('app').hidden = true;
    $('signin').hidden = false;
    show($('alert'), why || '');
  }

  $('token-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var t = $('token').value.trim().replace(/^Bearer\s+/i, '');
    if (!t) {
      show($('token-error'), msg.tokenMissing);
      $('token').setAttribute('aria-invalid', 'true');
      $('token').focus();
      return;
    }
    show($('token-error'), '');
    $('token').removeAttribute('aria-invalid');
    $('token').value = '';
    setToken(t);
    signIn();
  });
  $('sign-out').addEventListener('click', function () { signOut(''); });

  // ---------------------------------------------------------------- queues and alerts

  async function loadQueues() {
    show($('queues-status'), msg.loading);
    var r = await api('GET', '/api/admin/queues');
    var ul = $('queues');
    ul.textContent = '';
    if (r.status !== 200 || !r.data) {
      show($('queues-status'), R.problem(r));
      return;
    }
    (r.data.queues || []).forEach(function (q) {
      var dlq = (q.dlq && q.dlq.visible) || 0;
      var li = el('li', '', 'member');
      li.dataset.queue = q.name;
      li.appendChild(el('p', q.name, 'm-name'));
      li.appendChild(el('p', fill(msg.queue, { visible: q.visible || 0, inFlight: q.inFlight || 0, delayed: q.delayed || 0 }), 'm-line'));
      // Anything in a dead-letter queue is a message that failed five times: someone must look.
      li.appendChild(el('p', fill(msg.dlq, { n: dlq }), dlq > 0 ? 'alert q-dlq' : 'm-line q-dlq'));
      ul.appendChild(li);
    });
    show($('queues-status'), ul.children.length ? '' : msg.queuesEmpty);
  }

  async function loadAlerts() {
    show($('alerts-status'), msg.loading);
    var r = await api('GET', '/api/admin/alerts');
    var ul = $('alerts');
    ul.textContent = '';
    if (r.status !== 200 || !r.data) {
      show($('alerts-status'), R.problem(r));
      return;
    }
    (r.data.alerts || []).forEach(function (a) {
      var li = el('li', '', 'member');
      li.appendChild(el('p', [a.memberName, msg['k_' + a.kind], a.text].filter(Boolean).join(' · '), 'm-name'));
      li.appendChild(el('p', R.when(a.at || occ(a.occurrence)), 'm-line'));
      ul.appendChild(li);
    });
    show($('alerts-status'), ul.children.length ? '' : msg.alertsEmpty);
  }

  $('refresh').addEventListener('click', function () { loadQueues(); loadAlerts(); });

  // ---------------------------------------------------------------- one member's reminders

  function option(sel, value, text) {
    var o = el('option', text);
    o.value = value;
    sel.appendChild(o);
  }

  async function loadGroups() {
    var r = await api('GET', '/api/admin/groups');
    $('group').textContent = '';
    if (r.status !== 200 || !r.data) {
      show($('member-status'), R.problem(r));
      return;
    }
    (r.data.items || []).forEach(function (g) { option($('group'), g.id, g.name); });
    if (!$('group').options.length) {
      show($('member-status'), msg.groupsEmpty);
      return;
    }
    loadMembers();
  }

  async function loadMembers() {
    var sel = $('member');
    sel.length = 1;
    $('reminders').textContent = '';
    show($('member-status'), msg.loading);
    var r = await api('GET', '/api/admin/members?group=' + encodeURIComponent($('group').value));
    if (r.status !== 200 || !r.data) {
      show($('member-status'), R.problem(r));
      return;
    }
    (r.data.items || []).forEach(function (m) { option(sel, m.memberId, m.name + ' · ' + m.phone); });
    show($('member-status'), sel.length > 1 ? '' : msg.membersEmpty);
  }

  // attempt names a delivery attempt: "A0" is the first send, "A1"… the retries, "F<link>" the
  // alert to a family link, "S" the alert to staff.
  function attempt(a) {
    a = String(a || '');
    if (a.charAt(0) === 'A') { return fill(msg.attempt, { n: (parseInt(a.slice(1), 10) || 0) + 1 }); }
    return a.charAt(0) === 'F' ? msg.toFamily : a === 'S' ? msg.toStaff : a;
  }

  function deliveries(li, r) {
    var panel = li.querySelector('.r-panel'), list = li.querySelector('.r-occ'), err = li.querySelector('.r-error');
    var btn = li.querySelector('.r-deliv');
    btn.addEventListener('click', async function () {
      panel.hidden = !panel.hidden;
      btn.setAttribute('aria-expanded', String(!panel.hidden));
      if (panel.hidden) { return; }
      list.textContent = '';
      show(err, '');
      var a = await api('GET', '/api/admin/reminders/' + encodeURIComponent(r.id) + '/deliveries');
      if (a.status !== 200 || !a.data) {
        show(err, R.problem(a));
        return;
      }
      var tz = (r.rule && r.rule.timeZone) || R.tz;
      (a.data.occurrences || []).forEach(function (o) {
        var item = el('li', '');
        var ack = o.ack ? fill(msg.acked, { when: R.when(o.ack.at, tz) }) : msg.notAcked;
        item.appendChild(el('strong', R.when(occ(o.occurrence), tz) + ' · ' + ack));
        (o.deliveries || []).forEach(function (d) {
          item.appendChild(el('p', [attempt(d.attempt), d.channel, d.state, d.provider, d.reason, R.when(d.at, tz)]
            .filter(function (x) { return x !== undefined && x !== null && x !== ''; }).join(' · '), 'm-line'));
        });
        list.appendChild(item);
      });
      if (!list.children.length) { list.appendChild(el('li', msg.occEmpty)); }
    });
  }

  function remRow(r) {
    var li = $('rem-row').content.firstElementChild.cloneNode(true);
    var q = function (c) { return li.querySelector('.' + c); };
    var tz = (r.rule && r.rule.timeZone) || R.tz;
    li.dataset.id = r.id;
    q('r-text').textContent = r.text;
    q('r-kind').textContent = msg['k_' + r.kind] || r.kind;
    q('r-rule').textContent = R.ruleWords(r.rule);
    q('r-status').textContent = msg['st_' + r.status] || r.status;
    q('r-next').textContent = r.status === 'active' && r.nextAt ? fill(msg.next, { when: R.when(r.nextAt, tz) }) : '';
    q('r-listen').addEventListener('click', function () { R.listen(this, r, q('r-error')); });
    deliveries(li, r);
    return li;
  }

  async function loadReminders() {
    var id = $('member').value;
    $('reminders').textContent = '';
    if (!id) { return; }
    show($('member-status'), msg.loading);
    var r = await api('GET', '/api/admin/members/' + encodeURIComponent(id) + '/reminders');
    if (r.status !== 200 || !r.data) {
      show($('member-status'), R.problem(r));
      return;
    }
    (r.data.reminders || []).forEach(function (x) { $('reminders').appendChild(remRow(x)); });
    show($('member-status'), $('reminders').children.length ? '' : msg.remEmpty);
  }

  $('group').addEventListener('change', loadMembers);
  $('member').addEventListener('change', loadReminders);

  // ---------------------------------------------------------------- adding: one member, or a group

  var form = $('add');
  R.form(form);
  form.querySelectorAll('input[name="to"]').forEach(function (x) {
    x.addEventListener('change', function () { $('wecom').hidden = form.elements.to.value !== 'group'; });
  });
  form.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var group = form.elements.to.value === 'group', box = $('add-error');
    show($('add-ok'), '');
    $('bc-check').hidden = $('bc-facts').hidden = true;
    if (!group && !$('member').value) {
      R.fieldError(form, box, msg.pickMember);
      $('member').focus();
      return;
    }
    var d = R.draft(form);
    if (d.error) {
      R.fieldError(form, box, d.error, d.field);
      return;
    }
    R.fieldError(form, box, '');
    if (group && form.elements.wecom.checked) { d.draft.wecom = true; }
    var path = group ? '/api/admin/groups/' + encodeURIComponent($('group').value) + '/reminders'
      : '/api/admin/members/' + encodeURIComponent($('member').value) + '/reminders';
    var btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    var r = await api('POST', path, d.draft, { 'Idempotency-Key': R.key(d.draft) });
    btn.disabled = false;
    if (r.status < 200 || r.status > 299 || !r.data) {
      R.fieldError(form, box, R.problem(r), r.data && r.data.error && r.data.error.field);
      return;
    }
    R.keyUsed();
    R.clearForm(form);
    $('wecom').hidden = true;
    if (!group) {
      $('reminders').insertBefore(remRow(r.data), $('reminders').firstChild);
      show($('member-status'), '');
      show($('add-ok'), msg.remSaved);
      return;
    }
    bcID = r.data.broadcastId || '';
    var n = function (v) { return Array.isArray(v) ? v.length : (v || 0); };
    show($('add-ok'), fill(msg.bcDone, { n: n(r.data.reminders), skipped: n(r.data.skipped) }));
    $('bc-check').hidden = !bcID;
    if ($('member').value) { loadReminders(); }
  });

  // How the broadcast went: its delivery records counted by state ("sent 12 · failed 1").
  $('bc-check').addEventListener('click', async function () {
    var r = await api('GET', '/api/admin/broadcasts/' + encodeURIComponent(bcID));
    var dl = $('bc-facts'), by = {};
    dl.textContent = '';
    if (r.status !== 200 || !r.data) {
      show($('add-error'), R.problem(r));
      return;
    }
    (r.data.deliveries || []).forEach(function (d) { by[d.state] = (by[d.state] || 0) + 1; });
    var row = el('div', '');
    row.appendChild(el('dt', msg.bcDeliveries));
    row.appendChild(el('dd', Object.keys(by).map(function (k) { return k + ' ' + by[k]; }).join(' · ') || msg.occEmpty));
    dl.appendChild(row);
    dl.hidden = false;
  });

  // ---------------------------------------------------------------- the outbox (local only)

  async function loadOutbox() {
    var r = await api('GET', '/api/admin/outbox?limit=30');
    // Where messages reach real phones the route does not exist: no section at all.
    if (r.status === 404) {
      $('outbox-section').hidden = true;
      return;
    }
    $('outbox-section').hidden = false;
    var ol = $('outbox');
    ol.textContent = '';
    if (r.status !== 200 || !r.data) {
      show($('outbox-status'), R.problem(r));
      return;
    }
    (r.data.items || []).forEach(function (m) {
      var li = el('li', '', 'member');
      li.appendChild(el('p', [m.channel, m.toMasked, R.when(m.at)].filter(Boolean).join(' · '), 'm-line'));
      li.appendChild(el('p', m.text, 'm-name'));
      if (/^https?:\/\//i.test(m.link || '')) {
        var a = el('a', m.link, 'tap');
        a.href = m.link;
        a.rel = 'noreferrer';
        li.appendChild(a);
      }
      ol.appendChild(li);
    });
    show($('outbox-status'), ol.children.length ? '' : msg.outboxEmpty);
  }
  $('outbox-refresh').addEventListener('click', loadOutbox);

  if (getToken()) { signIn(); } else { $('token').focus(); }
}());
