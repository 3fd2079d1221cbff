// Staff admin page: keeps the pasted staff token in sessionStorage (never in a URL), lists the
// store's groups, creates groups and invites through /api/admin. Everything from the API is
// inserted with textContent, never as HTML.
(function () {
  'use strict';

  var KEY = 'yinling.staffToken';
  var lang = document.documentElement.lang || 'zh-CN';
  var $ = function (id) { return document.getElementById(id); };
  var msg = JSON.parse($('msg').textContent);
  var memToken = ''; // used only where sessionStorage is refused (some private modes)
  var cursor = '';
  var idemKey = newKey();

  function getToken() {
    try { return sessionStorage.getItem(KEY) || ''; } catch (e) { return memToken; }
  }
  function setToken(t) {
    memToken = t;
    try {
      if (t) { sessionStorage.setItem(KEY, t); } else { sessionStorage.removeItem(KEY); }
    } catch (e) { /* memToken is enough for this page's life */ }
  }

  // newKey returns a random UUID for Idempotency-Key; crypto.randomUUID needs a secure context,
  // so a page opened over plain HTTP on a LAN address falls back to getRandomValues.
  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function show(el, text) {
    el.textContent = text || '';
    el.hidden = !text;
  }

  // Expired is thrown after a 401 has been dealt with, so callers stop without showing more.
  function Expired() {}

  // api calls the admin API and resolves to {status, data}; a 401 signs the page out.
  async function api(method, path, body, extra) {
    var headers = {
      'Accept': 'application/json',
      'Accept-Language': lang,
      'Authorization': 'Bearer ' + getToken()
    };
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
    Object.keys(extra || {}).forEach(function (k) { headers[k] = extra[k]; });
    var res;
    try {
      res = await fetch(path, {
        method: method, headers: headers, cache: 'no-store', credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body)
      });
    } catch (e) {
      return { status: 0, data: { error: { code: 'network', message: msg.network } } };
    }
    var data = {};
    try { data = await res.json(); } catch (e) { /* empty or not JSON */ }
    if (res.status === 401) {
      signOut(msg.tokenExpired);
      throw new Expired();
    }
    return { status: res.status, data: data };
  }

  // errorOf returns the API's localized message; API Gateway's own errors (413, 429, 5xx) come
  // as {"message": …} in English only, so those get the page's own words.
  function errorOf(r) {
    var e = (r.data && r.data.error) || {};
    var fallback = r.status === 0 ? msg.network : msg.server;
    return { message: e.message || fallback, field: e.field || '' };
  }

  // ---------------------------------------------------------------- sign in and out

  function signIn() {
    $('signin').hidden = true;
    show($('alert'), '');
    $('groups').textContent = '';
    cursor = '';
    // The page shows once the list is in: the form below it must not move under a finger.
    var shown = function () { $('app').hidden = !getToken(); };
    loadGroups().then(shown, shown);
  }

  function signOut(why) {
    setToken('');
    $('app').hidden = true;
    $('signin').hidden = false;
    $('groups').textContent = '';
    show($('alert'), why || '');
    $('token').focus();
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

  // ---------------------------------------------------------------- the list

  function link(dd, url) {
    dd.textContent = '';
    if (/^https?:\/\//i.test(url || '')) {
      var a = document.createElement('a');
      a.href = url;
      a.textContent = url;
      dd.appendChild(a);
    } else {
      dd.textContent = url || '';
    }
  }

  function when(iso) {
    try {
      return new Date(iso).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' });
    } catch (e) {
      return iso;
    }
  }

  function row(g) {
    var li = $('group-tpl').content.firstElementChild.cloneNode(true);
    var q = function (c) { return li.querySelector('.' + c); };
    q('g-name').textContent = g.name;
    q('g-rule').textContent = msg[g.entryRule] || g.entryRule;
    q('g-code').textContent = g.joinCode;
    link(q('g-link'), g.joinUrl);
    q('g-cap').textContent = String(g.pushCap);
    var btn = q('g-invite');
    btn.addEventListener('click', async function () {
      btn.disabled = true;
      show(q('g-error'), '');
      try {
        var r = await api('POST', '/api/admin/groups/' + encodeURIComponent(g.id) + '/invites', {});
        if (r.status === 201) {
          q('i-code').textContent = r.data.code;
          link(q('i-link'), r.data.url);
          q('i-exp').textContent = when(r.data.expiresAt);
          q('invite').hidden = false;
        } else {
          show(q('g-error'), errorOf(r).message);
        }
      } catch (e) {
        if (!(e instanceof Expired)) { throw e; }
      } finally {
        btn.disabled = false;
      }
    });
    membersPanel(li, g);
    healthPanel(li, g);
    qrPanel(li, g);
    return li;
  }

  // ---------------------------------------------------------------- per group: members, health, QR

  var STATUS = { pending_verification: msg.status_pending_verification, pending_approval: msg.status_pending_approval, active: msg.status_active };
  var TIER = { member: msg.tier_member, leader: msg.tier_leader, partner: msg.tier_partner };
  var AGE = { under60: msg.age_under60, '60-69': msg.age_60s, '70-79': msg.age_70s, '80-89': msg.age_80s, '90+': msg.age_90s };

  // toggle wires a button that shows and hides a panel; open runs each time it is shown.
  function toggle(btn, panel, open) {
    btn.addEventListener('click', function () {
      panel.hidden = !panel.hidden;
      btn.setAttribute('aria-expanded', String(!panel.hidden));
      if (!panel.hidden) { open(); }
    });
  }

  // guard runs fn, swallowing the Expired that follows a 401 (the page has signed out).
  async function guard(fn) {
    try { await fn(); } catch (e) { if (!(e instanceof Expired)) { throw e; } }
  }

  function membersPanel(li, g) {
    var panel = li.querySelector('.m-panel');
    var q = function (c) { return panel.querySelector('.' + c); };
    var list = q('members'), more = q('m-more'), filter = q('m-filter'), mcursor = '';
    async function load(first) {
      if (first) { list.textContent = ''; mcursor = ''; }
      show(q('m-error'), '');
      show(q('m-status'), msg.loading);
      more.disabled = true;
      await guard(async function () {
        var p = new URLSearchParams({ group: g.id });
        ['status', 'tier', 'tag', 'q'].forEach(function (k) {
          var v = filter.elements[k].value.trim();
          if (v) { p.set(k, v); }
        });
        if (mcursor) { p.set('cursor', mcursor); }
        var r = await api('GET', '/api/admin/members?' + p);
        more.disabled = false;
        if (r.status !== 200) {
          show(q('m-status'), '');
          show(q('m-error'), errorOf(r).message);
          return;
        }
        (r.data.items || []).forEach(function (m) { list.appendChild(memberRow(m, g)); });
        mcursor = r.data.cursor || '';
        more.hidden = !mcursor;
        show(q('m-status'), list.children.length || mcursor ? '' : msg.members_empty);
      });
    }
    toggle(li.querySelector('.g-members'), panel, function () { load(true); });
    filter.addEventListener('submit', function (ev) { ev.preventDefault(); load(true); });
    more.addEventListener('click', function () { load(false); });
    var exp = q('m-export');
    exp.addEventListener('click', async function () {
      exp.disabled = true;
      show(q('m-error'), '');
      try {
        // A link cannot carry the Authorization header: fetch the file, hand it over as a blob.
        var res = await fetch('/api/admin/members/export?group=' + encodeURIComponent(g.id), {
          headers: { 'Authorization': 'Bearer ' + getToken(), 'Accept-Language': lang }, cache: 'no-store'
        });
        if (res.status === 401) { signOut(msg.tokenExpired); return; }
        if (!res.ok) {
          var data = {};
          try { data = await res.json(); } catch (e) { /* not JSON */ }
          show(q('m-error'), errorOf({ status: res.status, data: data }).message);
          return;
        }
        var url = URL.createObjectURL(await res.blob());
        var a = document.createElement('a');
        a.href = url;
        a.download = 'members-' + g.id + '.csv';
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
      } catch (e) {
        show(q('m-error'), msg.network);
      } finally {
        exp.disabled = false;
      }
    });
  }

  // memberRow is one member of group g; its buttons PATCH the member and redraw the row.
  function memberRow(m, g) {
    var li = $('member-tpl').content.firstElementChild.cloneNode(true);
    var q = function (c) { return li.querySelector('.' + c); };
    var form = q('m-edit');
    function fill(m, status) {
      li.dataset.status = status;
      q('m-name').textContent = m.name;
      q('m-phone').textContent = m.phone;
      q('m-age').textContent = AGE[m.ageBand] || msg.age_unknown;
      q('m-tier-w').textContent = TIER[m.tier] || m.tier;
      q('m-st').textContent = STATUS[status] || status;
      q('m-approve').hidden = status !== 'pending_approval';
      q('m-verify').hidden = !!m.verified;
      form.elements.tier.value = m.tier;
      form.elements.tags.value = (m.tags || []).join('，');
    }
    fill(m, m.status);
    async function patch(body, btn) {
      btn.disabled = true;
      show(q('m-err'), '');
      show(q('m-ok'), '');
      await guard(async function () {
        try {
          var r = await api('PATCH', '/api/admin/members/' + encodeURIComponent(m.memberId), body);
          if (r.status !== 200) {
            show(q('m-err'), errorOf(r).message);
            return;
          }
          var st = (r.data.memberships || []).filter(function (x) { return x.groupId === g.id; })[0];
          m = { memberId: m.memberId, name: r.data.name, phone: r.data.phone, ageBand: r.data.ageBand, tier: r.data.tier, tags: r.data.tags, verified: r.data.verified };
          fill(m, st ? st.status : li.dataset.status);
          show(q('m-ok'), msg.saved);
        } finally {
          btn.disabled = false;
        }
      });
    }
    q('m-approve').addEventListener('click', function () { patch({ approve: { group: g.id } }, this); });
    q('m-verify').addEventListener('click', function () { patch({ verifyInPerson: true }, this); });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var tags = form.elements.tags.value.split(/[,，、;；\s]+/).filter(Boolean);
      patch({ tier: form.elements.tier.value, tags: tags }, form.querySelector('button'));
    });
    return li;
  }

  function healthPanel(li, g) {
    var panel = li.querySelector('.h-panel');
    var q = function (c) { return panel.querySelector('.' + c); };
    toggle(li.querySelector('.g-health'), panel, function () {
      show(q('h-error'), msg.loading);
      return guard(async function () {
        var r = await api('GET', '/api/admin/metrics?group=' + encodeURIComponent(g.id));
        if (r.status !== 200) {
          show(q('h-error'), errorOf(r).message);
          return;
        }
        var d = r.data, j = d.joinedLast30Days || {};
        show(q('h-error'), '');
        q('h-members').textContent = String(d.members);
        q('h-active').textContent = String(d.active);
        q('h-pending').textContent = String(d.pendingApproval);
        q('h-active30').textContent = String(d.activeLast30Days);
        q('h-joined').textContent = msg.h_total + ' ' + j.total + ' · ' + msg.h_qr + ' ' + j.qr + ' · ' +
          msg.h_invite + ' ' + j.invite + ' · ' + msg.h_referral + ' ' + j.referral;
        var top = q('h-top');
        top.textContent = '';
        (d.topReferrers || []).forEach(function (t) {
          var item = document.createElement('li');
          item.textContent = (t.name || msg.h_erased) + ' · ' + t.referrals;
          top.appendChild(item);
        });
        if (!top.children.length) { top.textContent = msg.h_none; }
        q('h-asof').textContent = when(d.asOf);
        q('h-partial').hidden = !d.partial;
        q('h-facts').hidden = false;
      });
    });
  }

  function qrPanel(li, g) {
    var panel = li.querySelector('.q-panel');
    var q = function (c) { return panel.querySelector('.' + c); };
    var card = q('qr-card');
    toggle(li.querySelector('.g-qr'), panel, function () {
      q('q-name').textContent = g.name;
      q('q-code').textContent = g.joinCode;
      try {
        window.YinlingQR.draw(q('q-svg'), g.joinUrl);
        card.hidden = false;
        q('q-print').hidden = false;
      } catch (e) {
        // No code at all rather than a wrong one.
        card.hidden = true;
        q('q-print').hidden = true;
        show(q('q-error'), msg.qr_too_long);
      }
    });
    q('q-print').addEventListener('click', function () {
      card.classList.add('print-me');
      document.body.classList.add('printing');
      window.print();
      card.classList.remove('print-me');
      document.body.classList.remove('printing');
    });
  }

  async function loadGroups() {
    var status = $('groups-status');
    var more = $('more');
    show(status, msg.loading);
    more.disabled = true;
    try {
      var path = '/api/admin/groups' + (cursor ? '?cursor=' + encodeURIComponent(cursor) : '');
      var r = await api('GET', path);
      if (r.status !== 200) {
        show(status, '');
        show($('alert'), errorOf(r).message);
        return;
      }
      var items = r.data.items || [];
      items.forEach(function (g) { $('groups').appendChild(row(g)); });
      cursor = r.data.cursor || '';
      more.hidden = !cursor;
      show(status, $('groups').children.length ? '' : msg.empty);
    } catch (e) {
      if (!(e instanceof Expired)) { throw e; }
    } finally {
      more.disabled = false;
    }
  }

  $('more').addEventListener('click', loadGroups);

  // ---------------------------------------------------------------- the create form

  var form = $('create');
  var fields = ['name', 'covenant', 'entryRule', 'pushCap'];

  function clearErrors() {
    fields.forEach(function (f) {
      show($(f + '-error'), '');
      var input = $(f);
      if (input) { input.removeAttribute('aria-invalid'); }
    });
    show($('create-error'), '');
    show($('create-status'), '');
  }

  // fieldError shows text next to the field the API named, or above the button when the field
  // is not one of the form's.
  function fieldError(field, text) {
    var box = fields.indexOf(field) >= 0 ? $(field + '-error') : $('create-error');
    show(box, text);
    var input = $(field);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    } else {
      box.scrollIntoView({ block: 'center' });
    }
  }

  form.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    clearErrors();
    var cap = $('pushCap').value.trim();
    if (!/^\d{1,2}$/.test(cap)) {
      fieldError('pushCap', msg.pushCapInvalid);
      return;
    }
    var rule = form.querySelector('input[name="entryRule"]:checked');
    var body = {
      name: $('name').value,
      covenant: $('covenant').value,
      entryRule: rule ? rule.value : 'open',
      pushCap: parseInt(cap, 10)
    };
    var submit = $('create-submit');
    var label = submit.textContent;
    submit.disabled = true;
    submit.textContent = msg.saving;
    try {
      // The key stays the same until a create succeeds or the form changes, so a retry after a
      // lost answer cannot make the group twice, and an edited form is a new request.
      var r = await api('POST', '/api/admin/groups', body, { 'Idempotency-Key': idemKey });
      if (r.status === 201) {
        idemKey = newKey();
        var list = $('groups');
        list.insertBefore(row(r.data), list.firstChild);
        show($('groups-status'), '');
        form.reset();
        show($('create-status'), msg.created + r.data.name);
        $('create-status').scrollIntoView({ block: 'nearest' });
      } else {
        var e = errorOf(r);
        if (r.data && r.data.error && r.data.error.code === 'idempotency_key_reused') {
          idemKey = newKey();
        }
        fieldError(e.field, e.message);
      }
    } catch (e) {
      if (!(e instanceof Expired)) { throw e; }
    } finally {
      submit.disabled = false;
      submit.textContent = label;
    }
  });

  form.addEventListener('input', function () { idemKey = newKey(); });

  // ---------------------------------------------------------------- start

  if (getToken()) { signIn(); } else { $('signin').hidden = false; }
}());
