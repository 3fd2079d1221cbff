// /admin/reminders: queues, alerts, a member's reminders and deliveries, adding one for the
// member or group, the outbox. Token: /admin's (sessionStorage). API text: textContent only.
(function () {
  'use strict';

  var KEY = 'yinling.staffToken';
  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem, msg = R.msg, fill = R.fill, show = R.show;
  var memToken = '', bcID = '';

  function getToken() {
    try { return sessionStorage.getItem(KEY) || memToken; } catch (e) { return memToken; }
  }
  function setToken(t) {
    memToken = t;
    try {
      if (t) { sessionStorage.setItem(KEY, t); } else { sessionStorage.removeItem(KEY); }
    } catch (e) { /* memToken is enough for this page's life */ }
  }

  // auth is R.api's options for the admin API: the token, and a 401 signs the page out.
  function auth() {
    return { headers: { 'Authorization': 'Bearer ' + getToken() }, on401: function () { signOut(msg.tokenExpired); } };
  }
  function get(path) { return R.api('GET', path, undefined, auth()); }

  // el makes a tag with text, class and children lines ([[tag, text, class]…]).
  function el(tag, text, cls, lines) {
    var e = document.createElement(tag);
    e.textContent = text;
    if (cls) { e.className = cls; }
    (lines || []).forEach(function (l) { e.appendChild(el(l[0], l[1], l[2])); });
    return e;
  }

  // list puts into #id an item(x) for each x of GET path's data[key], saying in #id-status that
  // it is loading, failed or empty; it resolves to the answer.
  async function list(id, path, key, empty, item) {
    var ul = $(id), st = $(id + '-status');
    show(st, msg.loading);
    var r = await get(path), ok = r.status === 200 && r.data;
    ul.textContent = '';
    (ok && r.data[key] || []).forEach(function (x) { ul.appendChild(item(x)); });
    show(st, !ok ? R.problem(r) : ul.children.length ? '' : empty);
    return r;
  }

  // occ turns an occurrence id ("20261123T0000Z") into an instant.
  function occ(id) {
    var m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z$/.exec(id || '');
    return m ? Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5]) : id;
  }

  function signIn() {
    $('signin').hidden = true;
    show($('alert'), '');
    loadStatus();
    loadGroups();
    loadOutbox();
    R.idle(function () { $('app').hidden = !getToken(); });
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
    R.fieldError(this, $('token-error'), t ? '' : msg.tokenMissing, t ? '' : 'token');
    if (t) {
      this.reset();
      setToken(t);
      signIn();
    }
  });
  $('sign-out').addEventListener('click', function () { signOut(''); });

  // loadStatus shows the queues and the alerts that reached staff.
  function loadStatus() {
    list('queues', '/api/admin/queues', 'queues', msg.queuesEmpty, function (q) {
      var dlq = (q.dlq && q.dlq.visible) || 0;
      // Anything in a dead-letter queue is a message that failed five times: someone must look.
      var li = el('li', '', 'member', [['p', q.name, 'm-name'],
        ['p', fill(msg.queue, { visible: q.visible || 0, inFlight: q.inFlight || 0, delayed: q.delayed || 0 }), 'm-line'],
        ['p', fill(msg.dlq, { n: dlq }), dlq > 0 ? 'alert q-dlq' : 'm-line q-dlq']]);
      li.dataset.queue = q.name;
      return li;
    });
    list('alerts', '/api/admin/alerts', 'alerts', msg.alertsEmpty, function (a) {
      return el('li', '', 'member', [['p', [a.memberName, msg['k_' + a.kind], a.text].filter(Boolean).join(' · '), 'm-name'],
        ['p', R.when(a.at || occ(a.occurrence)), 'm-line']]);
    });
  }
  $('refresh').addEventListener('click', loadStatus);

  function option(sel, value, text) {
    var o = el('option', text);
    o.value = value;
    sel.appendChild(o);
  }

  async function loadGroups() {
    var r = await get('/api/admin/groups');
    $('group').textContent = '';
    (r.data && r.data.items || []).forEach(function (g) { option($('group'), g.id, g.name); });
    if (r.status !== 200 || !$('group').options.length) {
      show($('member-status'), r.status === 200 ? msg.groupsEmpty : R.problem(r));
      return;
    }
    loadMembers();
  }

  // The member's reminders, cancelled ones too: staff are asked why one stopped.
  var lo = { edit: true, all: true, draw: extra }, rems = R.list(lo);

  function clearList() {
    $('rem-list').textContent = '';
    $('rem-empty').hidden = $('rem-more').hidden = $('rem-error').hidden = true;
  }

  async function loadMembers() {
    var sel = $('member');
    sel.length = 1;
    clearList();
    show($('member-status'), msg.loading);
    var r = await get('/api/admin/members?group=' + encodeURIComponent($('group').value));
    (r.data && r.data.items || []).forEach(function (m) { option(sel, m.memberId, m.name + ' · ' + m.phone); });
    show($('member-status'), r.status !== 200 ? R.problem(r) : sel.length > 1 ? '' : msg.membersEmpty);
  }

  function loadReminders() {
    var id = $('member').value;
    clearList();
    if (!id) { return; }
    lo.base = '/api/admin/members/' + encodeURIComponent(id) + '/reminders';
    lo.api = auth();
    rems.load();
  }
  $('group').addEventListener('change', loadMembers);
  $('member').addEventListener('change', loadReminders);

  // attempt names a delivery attempt: A0 the first send, A1… retries, F<link> family, S staff.
  function attempt(a) {
    a = String(a || '');
    if (a.charAt(0) === 'A') { return fill(msg.attempt, { n: (parseInt(a.slice(1), 10) || 0) + 1 }); }
    return a.charAt(0) === 'F' ? msg.toFamily : a === 'S' ? msg.toStaff : a;
  }

  // extra adds to a reminder's row its status and, the first time, its deliveries.
  function extra(li, r) {
    li.querySelector('.r-kind').textContent += ' · ' + (msg['st_' + r.status] || r.status);
    if (li.querySelector('.r-deliv')) { return; }
    var t = $('deliv-tpl').content.cloneNode(true), btn = t.firstElementChild, panel = t.lastElementChild;
    var ul = panel.firstElementChild, err = li.querySelector('.r-error');
    var tz = (r.rule && r.rule.timeZone) || R.tz;
    li.querySelector('.tools').appendChild(btn);
    li.appendChild(panel);
    btn.addEventListener('click', async function () {
      panel.hidden = !panel.hidden;
      btn.setAttribute('aria-expanded', String(!panel.hidden));
      if (panel.hidden) { return; }
      ul.textContent = '';
      show(err, '');
      var a = await get('/api/admin/reminders/' + encodeURIComponent(r.id) + '/deliveries');
      if (a.status !== 200 || !a.data) {
        show(err, R.problem(a));
        return;
      }
      (a.data.occurrences || []).forEach(function (o) {
        var ack = o.ack ? fill(msg.acked, { when: R.when(o.ack.at, tz) }) : msg.notAcked;
        ul.appendChild(el('li', '', '', [['strong', R.when(occ(o.occurrence), tz) + ' · ' + ack]].concat(
          (o.deliveries || []).map(function (d) {
            return ['p', [attempt(d.attempt), d.channel, d.state, d.provider, d.reason, R.when(d.at, tz)]
              .filter(function (x) { return x != null && x !== ''; }).join(' · '), 'm-line'];
          }))));
      });
      if (!ul.children.length) { ul.appendChild(el('li', msg.occEmpty)); }
    });
  }

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
    var btn = form.querySelector('button[type=submit]'), label = btn.textContent;
    btn.disabled = true;
    var o = auth(), clip = await R.clip('/api/admin/voice-uploads', o, box, btn);
    if (clip) { d.draft.clipKey = clip; }
    o.headers['Idempotency-Key'] = R.key(d.draft);
    var r = clip === null ? null : await R.api('POST', path, d.draft, o);
    btn.disabled = false;
    btn.textContent = label;
    if (!r) { return; }
    if (r.status < 200 || r.status > 299 || !r.data) {
      R.fieldError(form, box, R.problem(r), r.data && r.data.error && r.data.error.field);
      return;
    }
    R.keyUsed();
    R.clearForm(form);
    R.clipClear();
    $('wecom').hidden = true;
    if (!group) {
      rems.add(r.data);
      show($('add-ok'), msg.remSaved);
      return;
    }
    bcID = r.data.broadcastId || '';
    show($('add-ok'), fill(msg.bcDone, { n: r.data.reminders || 0, skipped: r.data.skipped || 0 }));
    $('bc-check').hidden = !bcID;
    loadReminders();
  });

  // How the broadcast went: its delivery records counted by state ("sent 12 · failed 1").
  $('bc-check').addEventListener('click', async function () {
    var r = await get('/api/admin/broadcasts/' + encodeURIComponent(bcID));
    var dl = $('bc-facts'), by = {};
    dl.textContent = '';
    if (r.status !== 200 || !r.data) {
      show($('add-error'), R.problem(r));
      return;
    }
    (r.data.deliveries || []).forEach(function (d) { by[d.state] = (by[d.state] || 0) + 1; });
    dl.appendChild(el('div', '', '', [['dt', msg.bcDeliveries],
      ['dd', Object.keys(by).map(function (k) { return k + ' ' + by[k]; }).join(' · ') || msg.occEmpty]]));
    dl.hidden = false;
  });

  async function loadOutbox() {
    var r = await list('outbox', '/api/admin/outbox?limit=30', 'items', msg.outboxEmpty, function (m) {
      var li = el('li', '', 'member', [['p', [m.channel, m.toMasked, R.when(m.at)].filter(Boolean).join(' · '), 'm-line'],
        ['p', m.text, 'm-name']]);
      if (/^https?:\/\//i.test(m.link || '')) {
        var a = li.appendChild(el('a', m.link, 'tap'));
        a.href = m.link;
        a.rel = 'noreferrer';
      }
      return li;
    });
    // Where messages reach real phones the route does not exist: no section at all.
    $('outbox-section').hidden = r.status === 404;
  }
  $('outbox-refresh').addEventListener('click', loadOutbox);

  if (getToken()) { signIn(); } else { $('token').focus(); }
}());
