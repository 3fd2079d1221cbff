// rem.js, window.YLRem, shared by the pages: times and repeats in words in the member's zone
// ("每天 上午8:00"), API calls, a clip played or the text spoken. API text: textContent only.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var lang = document.documentElement.lang || 'zh-CN';
  var msg = JSON.parse($('msg').textContent);
  var R = { lang: lang, msg: msg, tz: 'Asia/Shanghai' };

  function fill(t, vars) {
    Object.keys(vars).forEach(function (k) { t = String(t).split('{' + k + '}').join(vars[k]); });
    return t;
  }
  R.fill = fill;

  function show(el, text) {
    el.textContent = text || '';
    el.hidden = !text;
  }
  R.show = show;

  // fmt formats d in zone tz, or in China time where the phone does not know tz.
  function fmt(d, opts, tz) {
    var o = { timeZone: tz || R.tz };
    Object.keys(opts).forEach(function (k) { o[k] = opts[k]; });
    try {
      return new Intl.DateTimeFormat(lang, o).format(d);
    } catch (e) {
      o.timeZone = 'Asia/Shanghai';
      return new Intl.DateTimeFormat(lang, o).format(d);
    }
  }

  // when puts an instant into words: "11月23日 周一 上午8:00".
  function when(ts, tz) {
    var d = new Date(ts);
    if (ts == null || ts === '' || isNaN(d)) { return ''; }
    return fill(msg.when, {
      date: fmt(d, { month: 'long', day: 'numeric' }, tz),
      weekday: fmt(d, { weekday: 'short' }, tz),
      time: fmt(d, { hour: 'numeric', minute: '2-digit', hour12: true }, tz)
    });
  }
  R.when = when;

  // local is a rule's date ("2026-11-23") and time ("08:00") as an instant to format in UTC.
  function local(date, at) {
    var p = String(date || '').split('-').map(Number), t = String(at || '0:0').split(':').map(Number);
    return Date.UTC(p[0], (p[1] || 1) - 1, p[2] || 1, t[0] || 0, t[1] || 0);
  }

  function clock(at) {
    return fmt(local('2000-01-01', at), { hour: 'numeric', minute: '2-digit', hour12: true }, 'UTC');
  }

  // ruleWords says when a rule rings: "每天 上午8:00", "每周一、三、五 上午8:00".
  function ruleWords(rule) {
    rule = rule || {};
    var time = clock(rule.at), s;
    var names = String(msg.days).split(',');
    switch (rule.freq) {
      case 'once':
        s = when(local(rule.start, rule.at), 'UTC');
        break;
      case 'weekly':
        s = fill(msg.weekly, {
          days: (rule.weekdays || []).slice().sort().map(function (d) { return names[d - 1] || ''; }).join(msg.daySep),
          time: time
        });
        break;
      case 'every_days':
        s = fill(msg.every_days, { n: rule.interval, time: time });
        break;
      default:
        s = fill(msg[rule.freq] || msg.daily, { time: time });
    }
    if (rule.until && rule.freq !== 'once') {
      s += fill(msg.until, { date: fmt(local(rule.until), { month: 'long', day: 'numeric' }, 'UTC') });
    }
    return s;
  }
  R.ruleWords = ruleWords;

  // today is the date in zone tz as "2026-11-23".
  R.today = function (tz) {
    var p = {};
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz || R.tz, year: 'numeric', month: '2-digit', day: '2-digit' })
        .formatToParts(new Date()).forEach(function (x) { p[x.type] = x.value; });
      return p.year + '-' + p.month + '-' + p.day;
    } catch (e) {
      return new Date().toISOString().slice(0, 10);
    }
  };

  // key is the Idempotency-Key of a create: a body retried on a weak signal keeps its key and
  // makes one reminder; a changed body gets a new one. randomUUID needs a secure context.
  var lastKey = '', lastBody = '';
  R.key = function (body) {
    var b = JSON.stringify(body);
    if (b !== lastBody || !lastKey) {
      lastBody = b;
      lastKey = window.crypto && crypto.randomUUID ? crypto.randomUUID()
        : Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(16)), function (x) { return (x + 256).toString(16).slice(1); }).join('');
    }
    return lastKey;
  };
  R.keyUsed = function () { lastKey = ''; };

  // R.idle(fn): fn runs once no call, nor one it led to, is under way: lists show at once.
  var busy = 0, idle = [];
  function settle() { if (!busy) { idle.splice(0).forEach(function (f) { f(); }); } }
  R.idle = function (fn) { idle.push(fn); setTimeout(settle); };

  // api calls the JSON API and resolves to {status, data}, status 0 when the network failed.
  // o: creds (fetch's credentials), headers to add, on401.
  R.api = async function (method, path, body, o) {
    busy++;
    try { return await call(method, path, body, o || {}); } finally { busy--; setTimeout(settle); }
  };
  async function call(method, path, body, o) {
    var headers = { 'Accept': 'application/json', 'Accept-Language': lang };
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
    Object.keys(o.headers || {}).forEach(function (k) { headers[k] = o.headers[k]; });
    var res;
    try {
      res = await fetch(path, {
        method: method, headers: headers, cache: 'no-store', credentials: o.creds || 'same-origin',
        referrerPolicy: 'no-referrer', body: body === undefined ? undefined : JSON.stringify(body)
      });
    } catch (e) {
      return { status: 0, data: null };
    }
    var data = null;
    try { data = await res.json(); } catch (e) { /* 204, or not JSON */ }
    if (o.on401 && res.status === 401) { o.on401(); }
    return { status: res.status, data: data };
  }

  // problem is the words for a failed call: the API's own message, else ours.
  R.problem = function (r) {
    if (!r.status) { return msg.network; }
    var e = (r.data && r.data.error) || {};
    return e.code && e.message ? e.message : msg.server;
  };

  var audio = null, playing = null;

  function stopAll() {
    if (audio) { audio.pause(); }
    if (window.speechSynthesis) { speechSynthesis.cancel(); }
    if (playing) { playing.textContent = msg.listen; playing = null; }
  }

  function done(btn) {
    if (playing === btn) { btn.textContent = msg.listen; playing = null; }
  }

  // speak reads text aloud with the phone's own voice, a Chinese one for Chinese text.
  function speak(text, btn) {
    if (!window.speechSynthesis || !window.SpeechSynthesisUtterance) { return false; }
    var u = new SpeechSynthesisUtterance(text);
    u.lang = /[\u3400-\u9fff]/.test(text) ? 'zh-CN' : lang;
    var v = speechSynthesis.getVoices().filter(function (x) { return x.lang.replace('_', '-').indexOf(u.lang) === 0; })[0];
    if (v) { u.voice = v; }
    u.rate = 0.9; // a little slower than the default: our listeners are 60 to 90
    u.onend = u.onerror = function () { done(btn); };
    speechSynthesis.speak(u);
    return true;
  }

  // play plays src ({url} or {text}), btn a stop button meanwhile; false when it can do neither.
  R.play = function (btn, src, el) {
    var again = playing === btn;
    stopAll();
    if (again) { return true; }
    playing = btn;
    btn.textContent = msg.stop;
    if (src.url) {
      audio = el || audio || new Audio();
      audio.onended = function () { done(btn); };
      audio.src = src.url;
      var p = audio.play();
      if (p && p.catch) {
        p.catch(function () { if (!src.text || !speak(src.text, btn)) { done(btn); } });
      }
      return true;
    }
    if (speak(src.text || '', btn)) { return true; }
    done(btn);
    return false;
  };

  // listen plays reminder r: its clip (r.audioUrl, on the family page, which gets no link: it
  // could answer "收到"), else what its page API signs — the clip, or the text in the server's
  // voice, which many WeChat WebViews need — else the phone's own voice.
  R.listen = async function (btn, r, err) {
    var src = { url: r.audioUrl, text: r.text };
    show(err, '');
    var token = String(r.link || '').split('/r/')[1];
    if (token && !src.url && playing !== btn) {
      var a = await R.api('GET', '/api/r/' + encodeURIComponent(token), undefined, { creds: 'omit' });
      if (a.status === 200 && a.data) { src = { url: a.data.audioUrl, text: a.data.speakText || r.text }; }
    }
    if (!R.play(btn, src)) { show(err, msg.noVoice); }
  };

  window.YLRem = R;
}());
