// remlist.js: the list of reminders (listen, pause, resume, cancel with a second tap) and the
// add-a-reminder form (rem-fields in parts.html). Extends window.YLRem (rem.js, loaded first);
// what the API returns goes in with textContent, never as HTML.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem, msg = R.msg, fill = R.fill, show = R.show, when = R.when, ruleWords = R.ruleWords;

  // list shows reminders in #rem-list from o.base (GET); with o.edit each can be paused, resumed
  // and cancelled (PATCH, DELETE o.base/{id}). o.api: R.api's options. o.all keeps cancelled
  // ones; o.draw(li, r) adds to each row as it is drawn. Returns {load, add}.
  R.list = function (o) {
    var ul = $('rem-list'), more = $('rem-more'), cursor = '';

    function empty() { $('rem-empty').hidden = ul.children.length > 0; }

    function row(r) {
      var li = $('rem-tpl').content.firstElementChild.cloneNode(true);
      var q = function (c) { return li.querySelector('.' + c); };
      var err = q('r-error'), pause = q('r-pause'), cancel = q('r-cancel'), armed = false;
      li.dataset.id = r.id;
      function draw() {
        q('r-kind').textContent = msg['k_' + r.kind] || '';
        q('r-text').textContent = r.text;
        q('r-rule').textContent = ruleWords(r.rule);
        var tz = (r.rule && r.rule.timeZone) || R.tz;
        q('r-next').textContent = r.status === 'active' && r.nextAt ? fill(msg.next, { when: when(r.nextAt, tz) }) : '';
        q('r-paused').hidden = r.status !== 'paused';
        pause.textContent = r.status === 'paused' ? msg.resume : msg.pause;
        cancel.hidden = !o.edit || r.status === 'cancelled';
        pause.hidden = !o.edit || (r.status !== 'active' && r.status !== 'paused'); // a sent one-off is done
        if (o.draw) { o.draw(li, r); }
      }
      draw();
      q('r-listen').addEventListener('click', function () { R.listen(this, r, err); });
      pause.addEventListener('click', async function () {
        pause.disabled = true;
        show(err, '');
        var a = await R.api('PATCH', o.base + '/' + encodeURIComponent(r.id),
          { status: r.status === 'paused' ? 'active' : 'paused' }, o.api);
        pause.disabled = false;
        if (a.status !== 200 || !a.data) { show(err, R.problem(a)); return; }
        r = a.data;
        draw();
      });
      cancel.addEventListener('click', async function () {
        // The first tap asks; only a second, deliberate tap cancels.
        if (!armed) {
          armed = true;
          cancel.textContent = msg.cancelConfirm;
          return;
        }
        cancel.disabled = true;
        show(err, '');
        var a = await R.api('DELETE', o.base + '/' + encodeURIComponent(r.id), undefined, o.api);
        if (a.status === 200 || a.status === 204 || a.status === 404) {
          if (o.all) {
            r.status = 'cancelled';
            draw();
          } else {
            li.remove();
            empty();
          }
          return;
        }
        cancel.disabled = false;
        armed = false;
        cancel.textContent = msg.cancel;
        show(err, R.problem(a));
      });
      return li;
    }

    async function load(next) {
      if (!next) { ul.textContent = ''; cursor = ''; }
      show($('rem-error'), '');
      more.disabled = true;
      var a = await R.api('GET', o.base + (cursor ? '?cursor=' + encodeURIComponent(cursor) : ''), undefined, o.api);
      more.disabled = false;
      if (a.status !== 200 || !a.data) {
        show($('rem-error'), R.problem(a));
        more.hidden = true;
        return;
      }
      (a.data.reminders || []).forEach(function (r) {
        if (o.all || r.status !== 'cancelled') { ul.appendChild(row(r)); }
      });
      cursor = a.data.cursor || '';
      more.hidden = !cursor;
      empty();
    }
    more.addEventListener('click', function () { load(true); });

    return {
      load: load,
      add: function (r) {
        ul.insertBefore(row(r), ul.firstChild);
        empty();
      }
    };
  };

  // form wires an add-a-reminder form (the rem-fields piece): the fields a repeat needs appear
  // with it, the date starts at today.
  R.form = function (f) {
    function sync() {
      var freq = f.elements.freq.value;
      f.querySelectorAll('[data-for]').forEach(function (el) { el.hidden = el.getAttribute('data-for') !== freq; });
    }
    f.querySelectorAll('input[name="freq"]').forEach(function (el) { el.addEventListener('change', sync); });
    f.elements.start.value = R.today();
    sync();
  };

  // clearForm resets f after a save, keeping today's date.
  R.clearForm = function (f) {
    f.reset();
    f.elements.start.value = R.today();
    f.querySelectorAll('[data-for]').forEach(function (el) { el.hidden = true; });
    f.querySelectorAll('[aria-invalid]').forEach(function (el) { el.removeAttribute('aria-invalid'); });
  };

  // draft reads f as the API's draft {kind, text, rule}; a field the senior must still fill in
  // comes back as {error, field}.
  R.draft = function (f) {
    var e = f.elements, freq = e.freq.value || 'daily';
    var text = e.text.value.trim();
    if (!text) { return { error: msg.textMissing, field: 'text' }; }
    var m = /^(\d{1,2})\s*[:：.]\s*(\d{2})$/.exec(e.at.value.trim());
    if (!m || +m[1] > 23 || +m[2] > 59) { return { error: msg.timeMissing, field: 'at' }; }
    var rule = { freq: freq, start: freq === 'once' && e.start.value ? e.start.value : R.today(), at: ('0' + m[1]).slice(-2) + ':' + m[2] };
    // Sent only when the page knows the member's zone; without it the API uses theirs.
    if (R.ruleTZ) { rule.timeZone = R.ruleTZ; }
    if (freq === 'weekly') {
      rule.weekdays = Array.prototype.filter.call(e.wd, function (c) { return c.checked; }).map(function (c) { return +c.value; });
      if (!rule.weekdays.length) { return { error: msg.daysMissing, field: 'wd' }; }
    }
    if (freq === 'every_days') { rule.interval = parseInt(e.interval.value, 10) || 0; }
    return { draft: { kind: e.kind.value || 'custom', text: text, rule: rule } };
  };

  // fieldError shows text in box and marks the form field the API (or draft) named: "rule.at"
  // is the field "at".
  R.fieldError = function (f, box, text, field) {
    f.querySelectorAll('[aria-invalid]').forEach(function (el) { el.removeAttribute('aria-invalid'); });
    show(box, text);
    var name = String(field || '').replace(/^rule\./, '');
    if (name === 'weekdays') { name = 'wd'; }
    var el = name && f.elements[name];
    if (el && el.length && !el.tagName) { el = el[0]; }
    if (el && el.focus) {
      el.setAttribute('aria-invalid', 'true');
      el.focus();
    }
  };

}());
