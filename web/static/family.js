// The family page (/f/{token}): what a relative sees when they open the link a senior gave them.
// The token is read from the path and sent only to GET /api/family/{token} (no Referer anywhere:
// the page and the API both say no-referrer). It shows whose page this is and what the link
// allows; a link that is unknown, expired or revoked gets a kind explanation of what to do.
// Everything from the API is inserted with textContent, never as HTML.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var lang = document.documentElement.lang || 'zh-CN';
  var msg = JSON.parse($('msg').textContent);
  var SCREENS = ['loading', 'failed', 'gone', 'view'];
  var token = decodeURIComponent((location.pathname.split('/f/')[1] || '').split('/')[0]);

  function screen(id) {
    SCREENS.forEach(function (s) { $(s).hidden = s !== id; });
  }

  function fill(template, key, value) {
    return template.split('{' + key + '}').join(value);
  }

  function day(ts) {
    var d = new Date(ts);
    if (!ts || isNaN(d.getTime())) { return ''; }
    try {
      return new Intl.DateTimeFormat(lang, { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'Asia/Shanghai' }).format(d);
    } catch (e) {
      return String(ts).slice(0, 10);
    }
  }

  function render(v) {
    $('whose').textContent = fill(msg.whose, 'name', v.name || '');
    $('for').textContent = fill(msg['for'], 'label', v.label || '');
    $('allows').textContent = msg[v.scope] || msg.view;
    $('expires').textContent = fill(msg.expires, 'date', day(v.expiresAt));
    screen('view');
  }

  async function load() {
    if (!token) {
      screen('gone');
      return;
    }
    screen('loading');
    var res;
    try {
      res = await fetch('/api/family/' + encodeURIComponent(token), {
        headers: { 'Accept': 'application/json', 'Accept-Language': lang },
        cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer'
      });
    } catch (e) {
      $('failed-text').textContent = msg.network;
      screen('failed');
      return;
    }
    if (res.status === 404) {
      screen('gone');
      return;
    }
    var data = {};
    try { data = await res.json(); } catch (e) { /* empty or not JSON */ }
    if (res.status === 200) {
      render(data || {});
      return;
    }
    var e = (data && data.error) || {};
    $('failed-text').textContent = e.code && e.message ? e.message : msg.server;
    screen('failed');
  }

  $('retry').addEventListener('click', load);
  load();
}());
