// seslist.js, R.sessions: Q&A sessions (parts.html's ses-list) for /sessions and the family page,
// with seats and the senior's booking. o.edit: one tap books (a question is optional), the
// confirmation shows in place, a second tap cancels. Needs rem.js; API text is textContent only.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem, msg = R.msg, fill = R.fill, show = R.show;

  R.doctor = function (d) {
    d = d || {};
    return [d.name, d.title].filter(Boolean).join(' ') + (d.speciality ? ' · ' + d.speciality : '');
  };
  R.place = function (p) {
    p = p || {};
    return fill(msg.place, { place: p.address || (p.kind === 'online' ? msg.online : msg.inStore) });
  };
  function live(b) { return b && (b.status === 'confirmed' || b.status === 'waitlisted') ? b : null; }

  // o: base (GET {sessions, cursor}; s.my is the booking), book(s, li) → {path, body} or a promise
  // (null: li says why not), cancel(s) → path, edit, api (R.api's options), on401 (a 401 is the
  // page's). load resolves to the answer.
  R.sessions = function (o) {
    var ul = $('ses-list'), more = $('ses-more'), cursor = '';

    // One Book button on screen looks primary; of several, none does.
    function paint() {
      var bs = [].filter.call(ul.querySelectorAll('.s-book'), function (b) { return !b.hidden; });
      bs.forEach(function (b) { b.className = (bs.length === 1 ? 'primary' : 'secondary wide') + ' s-book'; });
    }

    function row(s) {
      var li = $('ses-tpl').content.firstElementChild.cloneNode(true);
      var q = function (c) { return li.querySelector('.' + c); };
      var book = q('s-book'), cancel = q('s-cancel'), ask = q('s-ask'), box = q('s-q'), err = q('s-error');
      var ta = box.querySelector('textarea'), armed = false, label = cancel.textContent;
      box.querySelector('label').htmlFor = ta.id = 'q-' + s.id;

      function draw() {
        var my = live(s.my), badge = q('s-state').firstElementChild, off = s.status === 'cancelled', n = s.seatsLeft;
        q('s-doctor').textContent = R.doctor(s.doctor);
        q('s-title').textContent = s.title || '';
        q('s-when').textContent = s.when || R.when(s.startAt, s.timeZone);
        q('s-place').textContent = R.place(s.place);
        show(q('s-seats'), off || my || n == null ? '' : n > 0 ? fill(msg.seatsLeft, { n: n }) : msg.full);
        badge.textContent = my ? (my.status === 'confirmed' ? msg.booked : fill(msg.waitPos, { n: my.position || '' }))
          : off ? msg.sesCancelled : s.bookable || n == null ? ''
            : new Date(s.opensAt) > Date.now() ? fill(msg.opens, { when: R.when(s.opensAt, s.timeZone) }) : msg.closed;
        badge.className = my && my.status === 'confirmed' ? 'badge' : 'badge wait';
        q('s-state').hidden = !badge.textContent;
        book.hidden = !o.edit || !!my || !s.bookable || off;
        book.textContent = n > 0 ? msg.book : msg.bookWait;
        book.disabled = cancel.disabled = false;
        if (book.hidden) { box.hidden = true; }
        ask.hidden = book.hidden || !box.hidden;
        cancel.hidden = !o.edit || !my || off || new Date(s.startAt) <= Date.now();
        cancel.textContent = label;
        armed = false;
        paint();
      }

      function done(head, text) {
        q('s-done-h').textContent = head;
        show(q('s-done-t'), text);
        q('s-done').hidden = false;
        q('s-done').focus();
      }

      // failed redraws the row and says why a call failed; true when it did.
      function failed(a) {
        if (a.status === 200 || a.status === 201) { return false; }
        draw();
        show(err, R.problem(a));
        return true;
      }

      ask.addEventListener('click', function () {
        box.hidden = false;
        ask.hidden = true;
        ask.setAttribute('aria-expanded', 'true');
        ta.focus();
      });

      book.addEventListener('click', async function () {
        book.disabled = true;
        show(err, '');
        q('s-done').hidden = true;
        var req = await o.book(s, li), t = ta.value.trim();
        if (!req) { return draw(); }
        if (t) { req.body.question = t; }
        var a = await R.api('POST', req.path, req.body, o.api), d = a.data || {};
        if (failed(a)) { return; }
        var b = d.booking || { status: d.status };
        b.position = b.position || d.position;
        s = d.session || s;
        s.my = b;
        ta.value = '';
        box.hidden = true;
        draw();
        var ok = b.status === 'confirmed';
        done(ok ? msg.doneBooked : fill(msg.doneWait, { n: b.position || '' }), ok ? msg.setReminders : msg.waitHelp);
      });

      cancel.addEventListener('click', async function () {
        if (!armed) {
          armed = true;
          cancel.textContent = msg.sesCancelConfirm;
          return;
        }
        cancel.disabled = true;
        show(err, '');
        var was = live(s.my), a = await R.api('DELETE', o.cancel(s), undefined, o.api), d = a.data || {};
        if (a.status !== 404 && failed(a)) { return; }
        // The seat comes back, unless the first on the waiting list took it.
        if (was && was.status === 'confirmed' && s.seatsLeft != null && !d.promoted) { s.seatsLeft++; }
        s.my = d.booking;
        draw();
        done(msg.doneCancelled, '');
      });

      draw();
      return li;
    }

    async function load(next) {
      if (!next) { ul.textContent = ''; cursor = ''; }
      show($('ses-error'), '');
      more.disabled = true;
      var a = await R.api('GET', o.base + (cursor ? '?cursor=' + encodeURIComponent(cursor) : ''), undefined, o.api);
      more.disabled = false;
      if (a.status === 401 && o.on401) { return a; }
      if (a.status !== 200 || !a.data) {
        show($('ses-error'), R.problem(a));
        more.hidden = true;
        return a;
      }
      (a.data.sessions || []).forEach(function (s) { ul.appendChild(row(s)); });
      paint(); // rows paint themselves before they are in the list
      cursor = a.data.cursor || '';
      more.hidden = !cursor;
      $('ses-empty').hidden = ul.children.length > 0;
      return a;
    }
    more.addEventListener('click', function () { load(true); });

    return { load: load };
  };
}());
