// My page (/me): greets the signed-in senior by name and shows their groups and the messages they
// agreed to, from /api/me (the httpOnly session cookie goes along by itself). Without a session
// it explains how to get one. Read-only for now. Everything from the API is inserted with
// textContent, never as HTML.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var lang = document.documentElement.lang || 'zh-CN';
  var msg = JSON.parse($('msg').textContent);
  var SCREENS = ['loading', 'failed', 'signedout', 'me'];

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

  function render(me) {
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
    screen('me');
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
  load();
}());
