// The question digest (/admin/sessions/digest?id=…): one page to print for the doctor, in large
// type. The session, then its questions in the order staff ranked them (unranked ones after, in
// the order they were asked); a question marked as a repeat is folded into the one it repeats
// ("另有 2 人也问了"). Printing prints the digest alone (app.css's body.printing rules). Uses
// rem.js and staff.js; what the API returns goes in with textContent, never as HTML.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem, msg = R.msg, fill = R.fill, show = R.show, el = R.el;
  var id = new URLSearchParams(location.search).get('id') || '';

  function order(a, b) {
    var ra = a.rank || 1e9, rb = b.rank || 1e9;
    return ra !== rb ? ra - rb : String(a.createdAt).localeCompare(String(b.createdAt));
  }

  async function load() {
    if (!id) {
      show($('status'), msg.noId);
      return;
    }
    $('back').href = '/admin/sessions?id=' + encodeURIComponent(id);
    show($('status'), msg.loading);
    var a = await R.call('GET', '/api/admin/sessions/' + encodeURIComponent(id));
    if (!R.ok(a) || !a.data.session) {
      show($('status'), R.problem(a));
      return;
    }
    show($('status'), '');
    var s = a.data.session;
    var asked = (a.data.bookings || []).filter(function (b) {
      return (b.status === 'confirmed' || b.status === 'waitlisted') && (b.question || b.hasQuestionClip);
    }).sort(order);
    var by = {}, folded = {};
    asked.forEach(function (b) { by[b.memberId] = b; });
    // first is the question a repeat comes down to, through chains of repeats.
    function first(b) {
      for (var n = 0; b.duplicateOf && by[b.duplicateOf] && n < asked.length; n++) { b = by[b.duplicateOf]; }
      return b;
    }
    asked.forEach(function (b) {
      var f = first(b);
      if (f !== b) { (folded[f.memberId] = folded[f.memberId] || []).push(b.memberName); }
    });
    var ol = $('g-questions');
    ol.textContent = '';
    asked.forEach(function (b) {
      if (first(b) !== b) { return; }
      var li = ol.appendChild(el('li', ''));
      li.appendChild(el('p', b.question || msg.clip, 'big'));
      var also = folded[b.memberId] || [];
      li.appendChild(el('p', fill(msg.asker, { name: b.memberName || '' }) +
        (also.length ? ' · ' + fill(msg.also, { n: also.length, names: also.join('、') }) : ''), 'quiet'));
    });
    $('g-title').textContent = s.title || '';
    $('g-when').textContent = s.when || R.when(s.startAt, s.timeZone);
    $('g-doctor').textContent = R.doctor(s.doctor);
    $('g-place').textContent = R.place(s.place);
    $('g-facts').textContent = fill(msg.facts, { confirmed: s.confirmed || 0, n: ol.children.length });
    $('g-empty').hidden = ol.children.length > 0;
    $('digest').hidden = false;
    document.body.classList.add('printing');
  }

  $('print').addEventListener('click', function () { window.print(); });
  R.staff(load);
}());
