// The offer page (/o/{token}): where a promotion's SMS links. The offer in large type, the
// member's own price labelled by tier (会员价 / 团长价 / 合伙人价), where and when to pick it up
// (线上参与,线下领取), "听一听 / Listen" (the phone's own voice reads it out), and at the bottom,
// apart, one tap that unsubscribes from offers — health reminders are not affected, and the page
// says so. No sign-in: the token is the credential, read from the path and sent only to
// /api/o/{token} (no Referer anywhere). Uses rem.js; API text goes in with textContent.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var R = window.YLRem, msg = R.msg, fill = R.fill, show = R.show;
  var SCREENS = ['loading', 'failed', 'gone', 'view'];
  var token = decodeURIComponent((location.pathname.split('/o/')[1] || '').split('/')[0]);
  var api = '/api/o/' + encodeURIComponent(token);
  var opts = { creds: 'omit' };
  var v = {};

  function screen(id) {
    SCREENS.forEach(function (s) { $(s).hidden = s !== id; });
  }

  // price is the member's price in words: the API's "¥15.90", else the fen it sends.
  function price() {
    if (v.priceText) { return v.priceText; }
    return typeof v.price === 'number' ? '¥' + (v.price / 100).toFixed(2) : '';
  }

  function pickup() {
    if (!v.pickupFrom && !v.pickupText && !v.pickupPlace) { return ''; }
    var when = v.pickupText || fill(msg.fromUntil, { from: R.when(v.pickupFrom), until: R.when(v.pickupUntil) });
    return fill(msg.pickup, { place: v.pickupPlace || msg.inStore, when: when });
  }

  // ended is why the offer can no longer be had, [heading, text], or null.
  function ended() {
    if (v.status === 'cancelled') { return [msg.ended, msg.endedText]; }
    if (v.pickupUntil && new Date(v.pickupUntil).getTime() < Date.now()) { return [msg.ended, msg.pickupOver]; }
    return null;
  }

  function unsubscribed() {
    $('unsub-ask').hidden = true;
    $('unsub-done').hidden = false;
  }

  function render() {
    var end = ended(), p = price();
    $('who').textContent = v.memberName ? fill(msg['for'], { name: v.memberName }) : '';
    $('title').textContent = v.title || '';
    $('ended').hidden = !end;
    if (end) {
      $('ended-h').textContent = end[0];
      $('ended-t').textContent = end[1];
    }
    var img = $('image');
    // Only a picture served over https: plain http inside WeChat warns the senior off.
    if (/^https:\/\//.test(v.imageUrl || '')) {
      img.alt = v.title || '';
      img.src = v.imageUrl;
      $('image-box').hidden = false;
      img.onerror = function () { $('image-box').hidden = true; };
    } else {
      $('image-box').hidden = true;
    }
    show($('body'), v.body);
    $('price-box').hidden = !p || !!end;
    $('price-label').textContent = fill(msg.yourPrice, { tier: msg['tier_' + v.tier] || msg.tier_member });
    $('price').textContent = p;
    var where = pickup();
    $('pickup-box').hidden = !where || !!end;
    $('pickup').textContent = where;
    $('unsub-ask').hidden = !!v.unsubscribed;
    $('unsub-done').hidden = !v.unsubscribed;
    screen('view');
  }

  async function load() {
    if (!token) {
      screen('gone');
      return;
    }
    screen('loading');
    var r = await R.api('GET', api, undefined, opts);
    if (r.status === 404) {
      screen('gone');
      return;
    }
    if (r.status === 200 && r.data && r.data.title !== undefined) {
      v = r.data;
      render();
      return;
    }
    $('failed-text').textContent = R.problem(r);
    screen('failed');
  }

  $('listen').addEventListener('click', function () {
    var end = ended();
    var text = end ? [v.title, end[0], end[1]].filter(Boolean).join(msg.sep)
      : v.speak || [v.title, v.body, $('price-label').textContent + ' ' + price(), pickup()].filter(Boolean).join(msg.sep);
    show($('listen-error'), '');
    if (!R.play(this, { text: text })) { show($('listen-error'), msg.noVoice); }
  });

  // One tap, no "are you sure": leaving must be as easy as it is promised to be.
  $('unsub').addEventListener('click', async function () {
    var btn = this;
    btn.disabled = true;
    btn.textContent = msg.unsubSending;
    show($('unsub-error'), '');
    var r = await R.api('POST', api + '/unsubscribe', {}, opts);
    btn.disabled = false;
    btn.textContent = msg.unsub;
    if (r.status === 200 && r.data && r.data.unsubscribed) {
      v.unsubscribed = true;
      unsubscribed();
      $('unsub-done').focus();
      return;
    }
    if (r.status === 404) {
      screen('gone');
      return;
    }
    show($('unsub-error'), R.problem(r));
  });

  $('retry').addEventListener('click', load);
  load();
}());
