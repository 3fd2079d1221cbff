// Join page (/join/{code}): shows the store, the group and its covenant from /api/join/{code},
// posts the one form to /api/signup, then asks for the six digits sent by SMS and posts them to
// /api/signup/verify, which signs the senior in (an httpOnly cookie) before /me opens. Errors are
// the API's own words, shown next to the field it names. Everything from the API is inserted
// with textContent, never as HTML.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var lang = document.documentElement.lang || 'zh-CN';
  var msg = JSON.parse($('msg').textContent);
  var SCREENS = ['loading', 'failed', 'bad', 'join', 'verify', 'done'];
  // A language picked with the switch link stays picked on /me.
  var langQuery = /(^|[?&])lang=/.test(location.search.slice(1)) ? '?lang=' + encodeURIComponent(lang) : '';
  var code = '';
  try {
    code = decodeURIComponent(location.pathname.split('/')[2] || '');
  } catch (e) { /* a broken %-escape is an unknown code */ }

  var sent = null; // the last signup body: "send again" posts it once more
  var memberId = '';
  var pushed = false; // the code step has its own history entry, so Back returns to the form

  function show(el, text) {
    el.textContent = text || '';
    el.hidden = !text;
  }

  function screen(id) {
    SCREENS.forEach(function (s) { $(s).hidden = s !== id; });
    window.scrollTo(0, 0);
  }

  function fill(template, key, value) {
    return template.split('{' + key + '}').join(value);
  }

  // ascii turns full-width digits (what many Chinese keyboards type) into ASCII ones.
  function ascii(s) {
    return String(s || '').replace(/[\uff10-\uff19]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
    });
  }

  // masked is the number as the senior will recognise it: 138****8000 (the API answers a signup
  // with the member id only, so the page masks what was typed).
  function masked(phone) {
    var d = ascii(phone).replace(/\D/g, '');
    if (d.length === 13 && d.slice(0, 2) === '86') { d = d.slice(2); }
    if (d.length === 15 && d.slice(0, 4) === '0086') { d = d.slice(4); }
    if (d.length === 11) { return d.slice(0, 3) + '****' + d.slice(7); }
    return d.length > 6 ? d.slice(0, 2) + '****' + d.slice(-2) : d;
  }

  // api calls the JSON API and resolves to {status, data}; status 0 is a network failure.
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
      return { status: 0, data: {} };
    }
    var data = {};
    try { data = await res.json(); } catch (e) { /* empty or not JSON */ }
    return { status: res.status, data: data || {} };
  }

  // errorOf returns the API's message in the page's language; API Gateway's own errors (429,
  // 5xx) have no code and English text only, so those get the page's words.
  function errorOf(r) {
    var e = (r.data && r.data.error) || {};
    if (!e.code || !e.message) {
      return { code: '', message: r.status === 0 ? msg.network : msg.server, field: '' };
    }
    return { code: e.code, message: e.message, field: e.field || '' };
  }

  // ---------------------------------------------------------------- errors next to fields

  function fieldBoxes() {
    return Array.prototype.slice.call(document.querySelectorAll('[data-field]'));
  }

  function clearErrors() {
    fieldBoxes().forEach(function (box) {
      var err = box.querySelector('.field-error');
      if (err) { show(err, ''); }
      box.querySelectorAll('[aria-invalid]').forEach(function (i) { i.removeAttribute('aria-invalid'); });
    });
    show($('join-alert'), '');
    show($('verify-alert'), '');
  }

  // fieldError shows e next to the field it names on the screen in view, focusing that field;
  // an error about no field, or one not on this screen, goes to the screen's top.
  function fieldError(e, alertBox) {
    var box = null;
    fieldBoxes().forEach(function (b) {
      if (e.field && b.getAttribute('data-field') === e.field && !b.closest('[hidden]')) { box = b; }
    });
    if (!box) {
      show(alertBox, e.message);
      alertBox.focus();
      alertBox.scrollIntoView({ block: 'center' });
      return;
    }
    show(box.querySelector('.field-error'), e.message);
    var inputs = box.querySelectorAll('input');
    inputs.forEach(function (i) { i.setAttribute('aria-invalid', 'true'); });
    if (inputs.length) {
      inputs[0].focus();
    }
    box.scrollIntoView({ block: 'center' });
  }

  // busy disables button and says so while fn runs.
  async function busy(button, fn) {
    var label = button.textContent;
    button.disabled = true;
    button.textContent = msg.sending;
    try {
      return await fn();
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }

  // ---------------------------------------------------------------- the group

  function chip(name, i) {
    var label = document.createElement('label');
    label.className = 'chip';
    var input = document.createElement('input');
    input.type = 'checkbox';
    input.name = 'interests';
    input.value = name;
    input.id = 'interest-' + i;
    input.setAttribute('aria-describedby', 'interests-error');
    var span = document.createElement('span');
    span.textContent = name;
    label.appendChild(input);
    label.appendChild(span);
    return label;
  }

  function render(info) {
    var g = info.group || {};
    $('store').textContent = info.storeName || '';
    $('group').textContent = g.name || '';
    $('covenant').textContent = g.covenant || '';
    document.title = (g.name || '') + ' · ' + document.title;
    $('approval-note').hidden = g.entryRule !== 'approval';
    var list = $('interests');
    list.textContent = '';
    (info.interests || []).forEach(function (name, i) { list.appendChild(chip(name, i)); });
    $('interests-field').hidden = !list.children.length;
    code = info.code || code;
    screen('join');
  }

  async function load() {
    screen('loading');
    if (!code) {
      show($('bad-text'), msg.notFound);
      screen('bad');
      return;
    }
    // Both at once: where the code leads, and whether this phone is signed in already.
    var answers = await Promise.all([api('GET', '/api/join/' + encodeURIComponent(code)), api('GET', '/api/me')]);
    var r = answers[0], me = answers[1];
    if (r.status === 200) {
      var gid = (r.data.group || {}).id;
      var mine = me.status === 200 && (me.data.groups || []).some(function (g) { return g.id === gid; });
      if (mine) {
        // Scanned the group's QR again on a signed-in phone: their page is the place.
        location.replace('/me' + langQuery);
        return;
      }
      render(r.data);
      return;
    }
    var e = errorOf(r);
    if (r.status === 403 || r.status === 404 || r.status === 409) {
      // Unknown, expired or used-up code, or an invite-only group's own QR: only the staff can
      // help. The API's words for an unknown code ask to check what was typed; a senior who
      // scanned a QR code typed nothing, so the page says it its own way.
      show($('bad-text'), e.code === 'code_not_found' ? msg.notFound : e.message);
      screen('bad');
      return;
    }
    show($('failed-text'), e.message);
    screen('failed');
  }

  $('retry').addEventListener('click', load);

  // ---------------------------------------------------------------- the form

  function checked(name) {
    return Array.prototype.map.call(
      document.querySelectorAll('#join-form input[name="' + name + '"]:checked'),
      function (i) { return i.value; });
  }

  function collect() {
    var year = ascii($('birthYear').value).replace(/\s/g, '');
    return {
      code: code,
      name: $('name').value.trim(),
      phone: ascii($('phone').value).trim(),
      birthYear: /^\d{1,4}$/.test(year) ? parseInt(year, 10) : 0,
      gender: checked('gender')[0] || '',
      interests: checked('interests'),
      consents: {
        service: $('consent-service').checked,
        health: $('consent-health').checked,
        marketing: $('consent-marketing').checked
      },
      acceptCovenant: $('acceptCovenant').checked
    };
  }

  function toVerify() {
    show($('otp-sent'), fill(msg.otpSent, 'phone', masked(sent.phone)));
    show($('resend-status'), '');
    $('otp').value = '';
    document.title = msg.otpTitle;
    screen('verify');
    if (!pushed) {
      history.pushState({ step: 'otp' }, '');
      pushed = true;
    }
    $('otp').focus();
  }

  // signup posts body; 201 means a code is on its way (for a member who joined before, a code
  // that signs this phone in: the API answers both alike).
  async function signup(body, button, alertBox) {
    clearErrors();
    var r = await busy(button, function () { return api('POST', '/api/signup', body); });
    if (r.status === 201) {
      sent = body;
      memberId = r.data.memberId || '';
      return true;
    }
    fieldError(errorOf(r), alertBox);
    return false;
  }

  $('join-form').addEventListener('submit', async function (ev) {
    ev.preventDefault();
    if (await signup(collect(), $('join-submit'), $('join-alert'))) { toVerify(); }
  });

  // ---------------------------------------------------------------- the code

  $('otp-form').addEventListener('submit', async function (ev) {
    ev.preventDefault();
    clearErrors();
    show($('resend-status'), '');
    var otp = ascii($('otp').value).replace(/\D/g, '');
    var r = await busy($('otp-submit'), function () {
      return api('POST', '/api/signup/verify', { memberId: memberId, otp: otp });
    });
    if (r.status === 200) {
      screen('done');
      location.replace('/me' + langQuery);
      return;
    }
    fieldError(errorOf(r), $('verify-alert'));
  });

  $('resend').addEventListener('click', async function () {
    show($('resend-status'), '');
    if (await signup(sent, $('resend'), $('verify-alert'))) {
      $('otp').value = '';
      show($('resend-status'), msg.resent);
    }
  });

  function backToForm() {
    clearErrors();
    screen('join');
    $('phone').focus();
    $('phone').scrollIntoView({ block: 'center' });
  }

  $('change-phone').addEventListener('click', function () {
    if (pushed) {
      history.back(); // popstate shows the form
    } else {
      backToForm();
    }
  });

  window.addEventListener('popstate', function () {
    if (!$('verify').hidden) {
      pushed = false;
      backToForm();
    }
  });

  load();
}());
