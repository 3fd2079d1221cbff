// A small QR code encoder for the admin page's printable join codes: byte mode (UTF-8), error
// correction level M, versions 1–10 (up to 213 bytes), following ISO/IEC 18004. No dependencies.
// YinlingQR.matrix(text[, mask]) returns the modules as rows of booleans (true = dark), without
// the quiet zone; YinlingQR.draw(svg, text) draws them into an <svg> with a quiet zone of 4.
(function () {
  'use strict';

  var ECC = [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26]; // EC codewords per block, level M
  var BLOCKS = [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5]; // blocks, level M

  // rawModules counts the modules left for data and EC after the function patterns.
  function rawModules(v) {
    var r = (16 * v + 128) * v + 64;
    if (v >= 2) {
      var n = Math.floor(v / 7) + 2;
      r -= (25 * n - 10) * n - 55;
      if (v >= 7) { r -= 36; }
    }
    return r;
  }
  function dataWords(v) { return Math.floor(rawModules(v) / 8) - ECC[v] * BLOCKS[v]; }

  // GF(256) multiplication modulo x^8 + x^4 + x^3 + x^2 + 1.
  function mul(x, y) {
    var z = 0;
    for (var i = 7; i >= 0; i--) {
      z = (z << 1) ^ ((z >>> 7) * 0x11D);
      z ^= ((y >>> i) & 1) * x;
    }
    return z;
  }
  function divisor(deg) {
    var r = [], root = 1, i, j;
    for (i = 0; i < deg - 1; i++) { r.push(0); }
    r.push(1);
    for (i = 0; i < deg; i++) {
      for (j = 0; j < r.length; j++) {
        r[j] = mul(r[j], root);
        if (j + 1 < r.length) { r[j] ^= r[j + 1]; }
      }
      root = mul(root, 2);
    }
    return r;
  }
  function remainder(data, div) {
    var r = div.map(function () { return 0; });
    data.forEach(function (b) {
      var f = b ^ r.shift();
      r.push(0);
      div.forEach(function (c, i) { r[i] ^= mul(c, f); });
    });
    return r;
  }

  // codewords returns the version and the final, interleaved codewords for bytes.
  function codewords(bytes) {
    var v, i, cap, bits = [];
    for (v = 1; v <= 10; v++) {
      if (4 + (v < 10 ? 8 : 16) + bytes.length * 8 <= dataWords(v) * 8) { break; }
    }
    if (v > 10) { throw new RangeError('QR: text too long'); }
    var put = function (val, n) { for (var k = n - 1; k >= 0; k--) { bits.push((val >>> k) & 1); } };
    put(4, 4);
    put(bytes.length, v < 10 ? 8 : 16);
    bytes.forEach(function (b) { put(b, 8); });
    cap = dataWords(v) * 8;
    put(0, Math.min(4, cap - bits.length));
    put(0, (8 - bits.length % 8) % 8);
    for (var pad = 0xEC; bits.length < cap; pad ^= 0xEC ^ 0x11) { put(pad, 8); }
    var words = [];
    for (i = 0; i < bits.length; i += 8) { words.push(parseInt(bits.slice(i, i + 8).join(''), 2)); }

    var nb = BLOCKS[v], ecl = ECC[v], raw = Math.floor(rawModules(v) / 8);
    var nShort = nb - raw % nb, shortLen = Math.floor(raw / nb), div = divisor(ecl);
    var blocks = [], k = 0, out = [];
    for (i = 0; i < nb; i++) {
      var d = words.slice(k, k + shortLen - ecl + (i < nShort ? 0 : 1));
      k += d.length;
      var e = remainder(d, div);
      if (i < nShort) { d.push(0); }
      blocks.push(d.concat(e));
    }
    for (i = 0; i < blocks[0].length; i++) {
      for (var j = 0; j < nb; j++) {
        if (i !== shortLen - ecl || j >= nShort) { out.push(blocks[j][i]); }
      }
    }
    return { v: v, words: out };
  }

  var MASKS = [
    function (x, y) { return (x + y) % 2 === 0; },
    function (x, y) { return y % 2 === 0; },
    function (x) { return x % 3 === 0; },
    function (x, y) { return (x + y) % 3 === 0; },
    function (x, y) { return (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0; },
    function (x, y) { return x * y % 2 + x * y % 3 === 0; },
    function (x, y) { return (x * y % 2 + x * y % 3) % 2 === 0; },
    function (x, y) { return ((x + y) % 2 + x * y % 3) % 2 === 0; }
  ];

  function build(v, words, mask) {
    var size = 4 * v + 17, m = [], fn = [], i, j, x, y;
    for (i = 0; i < size; i++) { m.push(new Array(size).fill(false)); fn.push(new Array(size).fill(false)); }
    var set = function (cx, cy, dark) { m[cy][cx] = dark; fn[cy][cx] = true; };

    for (i = 0; i < size; i++) { set(6, i, i % 2 === 0); set(i, 6, i % 2 === 0); }
    [[3, 3], [size - 4, 3], [3, size - 4]].forEach(function (c) {
      for (var dy = -4; dy <= 4; dy++) {
        for (var dx = -4; dx <= 4; dx++) {
          var d = Math.max(Math.abs(dx), Math.abs(dy)), xx = c[0] + dx, yy = c[1] + dy;
          if (xx >= 0 && xx < size && yy >= 0 && yy < size) { set(xx, yy, d !== 2 && d !== 4); }
        }
      }
    });
    if (v > 1) {
      var n = Math.floor(v / 7) + 2, step = Math.ceil((v * 4 + 4) / (n * 2 - 2)) * 2, pos = [6];
      for (var p = size - 7; pos.length < n; p -= step) { pos.splice(1, 0, p); }
      pos.forEach(function (a, ai) {
        pos.forEach(function (b, bi) {
          if ((ai === 0 && bi === 0) || (ai === 0 && bi === n - 1) || (ai === n - 1 && bi === 0)) { return; }
          for (var dy = -2; dy <= 2; dy++) {
            for (var dx = -2; dx <= 2; dx++) { set(a + dx, b + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1); }
          }
        });
      });
    }
    var format = function (mk) {
      var data = mk, rem = data, bit; // level M is 00
      for (var k = 0; k < 10; k++) { rem = (rem << 1) ^ ((rem >>> 9) * 0x537); }
      bit = function (b) { return (((data << 10 | rem) ^ 0x5412) >>> b & 1) !== 0; };
      for (k = 0; k <= 5; k++) { set(8, k, bit(k)); }
      set(8, 7, bit(6));
      set(8, 8, bit(7));
      set(7, 8, bit(8));
      for (k = 9; k < 15; k++) { set(14 - k, 8, bit(k)); }
      for (k = 0; k < 8; k++) { set(size - 1 - k, 8, bit(k)); }
      for (k = 8; k < 15; k++) { set(8, size - 15 + k, bit(k)); }
      set(8, size - 8, true);
    };
    format(0);
    if (v >= 7) {
      var rem = v;
      for (i = 0; i < 12; i++) { rem = (rem << 1) ^ ((rem >>> 11) * 0x1F25); }
      var vb = v << 12 | rem;
      for (i = 0; i < 18; i++) {
        var dark = (vb >>> i & 1) !== 0, a = size - 11 + i % 3, b = Math.floor(i / 3);
        set(a, b, dark);
        set(b, a, dark);
      }
    }
    var bi2 = 0;
    for (var right = size - 1; right >= 1; right -= 2) {
      if (right === 6) { right = 5; }
      for (var vert = 0; vert < size; vert++) {
        for (j = 0; j < 2; j++) {
          x = right - j;
          y = ((right + 1) & 2) === 0 ? size - 1 - vert : vert;
          if (!fn[y][x] && bi2 < words.length * 8) {
            m[y][x] = (words[bi2 >>> 3] >>> (7 - (bi2 & 7)) & 1) !== 0;
            bi2++;
          }
        }
      }
    }
    var masked = function (mk) {
      var r = m.map(function (row) { return row.slice(); });
      for (y = 0; y < size; y++) {
        for (x = 0; x < size; x++) {
          if (!fn[y][x] && MASKS[mk](x, y)) { r[y][x] = !r[y][x]; }
        }
      }
      return r;
    };
    var best, bestScore = Infinity;
    for (var mk = 0; mk < 8; mk++) {
      if (mask !== undefined && mask !== mk) { continue; }
      format(mk);
      var r = masked(mk), s = mask !== undefined ? 0 : penalty(r);
      if (s < bestScore) { best = r; bestScore = s; }
    }
    return best;
  }

  // penalty scores a masked symbol by the standard's four rules; the lowest score is used.
  function penalty(m) {
    var size = m.length, s = 0, dark = 0, x, y;
    var cols = m.map(function (row, i) { return m.map(function (r) { return r[i]; }); });
    m.concat(cols).forEach(function (line) {
      var run = 1;
      for (var i = 1; i <= size; i++) {
        if (i < size && line[i] === line[i - 1]) { run++; continue; }
        if (run >= 5) { s += run - 2; }
        run = 1;
      }
      var str = line.map(function (b) { return b ? '1' : '0'; }).join('');
      var re = /(?=(10111010000|00001011101))/g;
      while (re.exec(str)) { s += 40; re.lastIndex++; }
    });
    for (y = 0; y < size; y++) {
      for (x = 0; x < size; x++) {
        if (m[y][x]) { dark++; }
        if (x < size - 1 && y < size - 1 && m[y][x] === m[y][x + 1] && m[y][x] === m[y + 1][x] && m[y][x] === m[y + 1][x + 1]) { s += 3; }
      }
    }
    return s + 10 * Math.floor(Math.abs(dark * 20 - size * size * 10) / (size * size));
  }

  function matrix(text, mask) {
    var c = codewords(Array.from(new TextEncoder().encode(text)));
    return build(c.v, c.words, mask);
  }

  // draw replaces what svg holds with the code for text, 4 modules of quiet zone around it.
  function draw(svg, text) {
    var m = matrix(text), n = m.length + 8, d = '';
    m.forEach(function (row, y) {
      row.forEach(function (dark, x) { if (dark) { d += 'M' + (x + 4) + ' ' + (y + 4) + 'h1v1h-1z'; } });
    });
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    svg.setAttribute('viewBox', '0 0 ' + n + ' ' + n);
    svg.setAttribute('shape-rendering', 'crispEdges');
    var bg = document.createElementNS(svg.namespaceURI, 'rect');
    bg.setAttribute('width', n);
    bg.setAttribute('height', n);
    bg.setAttribute('fill', '#fff');
    var path = document.createElementNS(svg.namespaceURI, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', '#000');
    svg.appendChild(bg);
    svg.appendChild(path);
  }

  window.YinlingQR = { matrix: matrix, draw: draw };
}());
