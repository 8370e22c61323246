/* Amparo /protect: hashing in the browser, inside a Web Worker.
 *
 * The chosen file is read here and nowhere else; only hashes leave this worker. Written for
 * Amparo (Apache-2.0), no code from other ports:
 *   - PDQ, float32-faithful to Meta's C++ reference (pdq/cpp: luma, two Jarosz tent passes of
 *     box filters, 64x64 decimation, 16x16 DCT, Torben median with integer-division (n+1)/2).
 *     Two input conventions: the full decode (Amparo's hash of record = pdqhash on the decoded RGB
 *     image) and the C++ CLI/WASM one that first resizes images over 512 px to 512x512 by nearest
 *     neighbour (CImg's index rule floor(x * W / 512)).
 *   - MD5 (RFC 1321), streamed over the file in chunks.
 *   - SHA-256 (FIPS 180-4) for the server's proof-of-work challenge.
 * Messages in:  {op: "hash-file", file, id}  {op: "pdq-pixels", data, width, height, channels,
 *               resize, luma, id}  {op: "md5", data, id}  {op: "pow", challenge, bits, id}
 * Messages out: {id, ok: true, result} or {id, ok: false, error}; progress {id, progress}.
 */
(function (scope) {
"use strict";

/* ---------------------------------------------------------------- PDQ */

var PDQ_DOWNSAMPLE = 512;
var MIN_HASHABLE_DIM = 5;
var LUMA_R = Math.fround(0.299), LUMA_G = Math.fround(0.587), LUMA_B = Math.fround(0.114);
var fr = Math.fround;

var DCT = (function () {
  var d = new Float32Array(16 * 64);
  var scale = fr(Math.sqrt(2.0 / 64.0));
  for (var i = 0; i < 16; i++) {
    for (var j = 0; j < 64; j++) {
      d[i * 64 + j] = scale * Math.cos((Math.PI / 2.0 / 64.0) * (i + 1) * (2 * j + 1));
    }
  }
  return d;
})();

/* Luma of one image row (channels 3 or 4) into `row`. luma "pdqhash": double arithmetic rounded
 * once to float32, as pdqhash-python (Amparo's hash of record) computes it with numpy; luma "cpp":
 * float32 at every step, as the C++ reference's fillFloatLumaFromRGB. `cols` picks the source
 * columns (null: all of them, in order; else the nearest-neighbour 512 grid). */
function lumaRow(px, width, channels, srcRow, cols, mode, row) {
  var n = row.length, j, p, r, g, b, base = srcRow * width;
  if (cols === null && mode !== "cpp") {
    for (j = 0, p = base * channels; j < n; j++, p += channels) {
      row[j] = px[p] * 0.299 + px[p + 1] * 0.587 + px[p + 2] * 0.114;
    }
    return;
  }
  for (j = 0; j < n; j++) {
    p = (base + (cols === null ? j : cols[j])) * channels;
    r = px[p]; g = px[p + 1]; b = px[p + 2];
    row[j] = mode === "cpp" ? fr(fr(fr(LUMA_R * r) + fr(LUMA_G * g)) + fr(LUMA_B * b))
      : r * 0.299 + g * 0.587 + b * 0.114;
  }
}

/* CImg's nearest-neighbour resize (interpolation type 1): output x takes source floor(x*W/N). */
function nearestIndex(oldN, newN) {
  var a = new Int32Array(newN);
  for (var x = 0; x < newN; x++) a[x] = Math.floor((x * oldN) / newN);
  return a;
}

function jaroszWindow(oldDim, newDim) {
  return Math.floor((oldDim + 2 * newDim - 1) / (2 * newDim));
}

/* The reference's box1DFloat along one row (stride 1): `inp` from inOff, `out` from outOff. When
 * `want` is given, only the outputs at columns c with want[c] >= 0 are kept, at out[outOff +
 * want[c]]: the running sum is the same, so the kept values are the same. */
function boxRow(inp, inOff, out, outOff, len, win, want) {
  var half = Math.floor((win + 2) / 2);
  var p1 = half - 1, p2 = win - half + 1, p3 = len - win, p4 = half - 1;
  var li = inOff, ri = inOff, oi = 0, sum = 0, n = 0, t;
  if (want === null) {
    for (t = 0; t < p1; t++) { sum = fr(sum + inp[ri++]); n++; }
    for (t = 0; t < p2; t++) { sum = fr(sum + inp[ri++]); n++; out[outOff + oi++] = sum / n; }
    for (t = 0; t < p3; t++) {
      sum = fr(sum + inp[ri++]); sum = fr(sum - inp[li++]); out[outOff + oi++] = sum / n;
    }
    for (t = 0; t < p4; t++) { sum = fr(sum - inp[li++]); n--; out[outOff + oi++] = sum / n; }
    return;
  }
  var w;
  for (t = 0; t < p1; t++) { sum = fr(sum + inp[ri++]); n++; }
  for (t = 0; t < p2; t++) {
    sum = fr(sum + inp[ri++]); n++; w = want[oi++]; if (w >= 0) out[outOff + w] = sum / n;
  }
  for (t = 0; t < p3; t++) {
    sum = fr(sum + inp[ri++]); sum = fr(sum - inp[li++]); w = want[oi++]; if (w >= 0) out[outOff + w] = sum / n;
  }
  for (t = 0; t < p4; t++) {
    sum = fr(sum - inp[li++]); n--; w = want[oi++]; if (w >= 0) out[outOff + w] = sum / n;
  }
}

/* One box pass along each column. Each column runs exactly the reference's box1DFloat (same
 * operations in the same order, float32 sums); all columns advance together row by row so that
 * memory is read in order (the reference's strided walk is many times slower on large images). */
function boxCols(inp, out, numRows, numCols, win) {
  var half = Math.floor((win + 2) / 2);
  var p1 = half - 1, p2 = win - half + 1, p3 = numRows - win, p4 = half - 1;
  var sums = new Float32Array(numCols);
  var li = 0, ri = 0, oi = 0, n = 0, t, j;
  for (t = 0; t < p1; t++) {
    for (j = 0; j < numCols; j++) sums[j] += inp[ri + j];
    ri += numCols; n++;
  }
  for (t = 0; t < p2; t++) {
    n++;
    for (j = 0; j < numCols; j++) { sums[j] += inp[ri + j]; out[oi + j] = sums[j] / n; }
    ri += numCols; oi += numCols;
  }
  for (t = 0; t < p3; t++) {
    for (j = 0; j < numCols; j++) {
      sums[j] += inp[ri + j]; sums[j] -= inp[li + j]; out[oi + j] = sums[j] / n;
    }
    ri += numCols; li += numCols; oi += numCols;
  }
  for (t = 0; t < p4; t++) {
    n--;
    for (j = 0; j < numCols; j++) { sums[j] -= inp[li + j]; out[oi + j] = sums[j] / n; }
    li += numCols; oi += numCols;
  }
}

function torbenMedian(m) {
  var n = m.length, i, less, greater, equal, guess, maxlt, mingt;
  var min = m[0], max = m[0];
  for (i = 1; i < n; i++) { if (m[i] < min) min = m[i]; if (m[i] > max) max = m[i]; }
  var halfN = Math.floor((n + 1) / 2); /* integer division, as the reference */
  for (;;) {
    guess = fr((min + max) / 2);
    less = 0; greater = 0; equal = 0; maxlt = min; mingt = max;
    for (i = 0; i < n; i++) {
      var v = m[i];
      if (v < guess) { less++; if (v > maxlt) maxlt = v; }
      else if (v > guess) { greater++; if (v < mingt) mingt = v; }
      else equal++;
    }
    if (less <= halfN && greater <= halfN) break;
    if (less > greater) max = maxlt; else min = mingt;
  }
  if (less >= halfN) return maxlt;
  if (less + equal >= halfN) return guess;
  return mingt;
}

function qualityOf(b) {
  var sum = 0, i, j, d;
  for (i = 0; i < 63; i++) for (j = 0; j < 64; j++) {
    d = Math.trunc(fr(fr(fr(b[i * 64 + j] - b[(i + 1) * 64 + j]) * 100) / 255));
    sum += Math.abs(d);
  }
  for (i = 0; i < 64; i++) for (j = 0; j < 63; j++) {
    d = Math.trunc(fr(fr(fr(b[i * 64 + j] - b[i * 64 + j + 1]) * 100) / 255));
    sum += Math.abs(d);
  }
  return Math.min(100, Math.floor(sum / 90));
}

/* The reference's pdqHash256FromFloatLuma on the luma rows that fillRow(i, row) gives: two Jarosz
 * passes (box along rows, then along columns, twice), decimation to 64x64, quality, DCT, median.
 * Every value is computed by exactly the reference's float32 operations in its order; what differs
 * is only when and where they are stored:
 *   - the first two passes stream: a column-pass step needs rows ri and ri - window of the first
 *     row pass, so those rows live in a ring of window + 1 rows instead of a full image buffer;
 *   - the decimation reads 64 columns, so the second row pass keeps just those outputs (its
 *     running sums are unchanged) and the second column pass runs on just those columns. */
function pdqCore(fillRow, numRows, numCols) {
  if (numRows < MIN_HASHABLE_DIM || numCols < MIN_HASHABLE_DIM) {
    return { hash: "0".repeat(64), quality: 0 };
  }
  var b64 = new Float32Array(64 * 64), i, j, k;
  if (numRows === 64 && numCols === 64) {
    for (i = 0; i < 64; i++) fillRow(i, b64.subarray(i * 64, i * 64 + 64));
  } else {
    var wr = jaroszWindow(numCols, 64), wc = jaroszWindow(numRows, 64);
    var want = new Int32Array(numCols).fill(-1), slot = new Int32Array(64), used = 0;
    for (j = 0; j < 64; j++) {
      var inj = Math.floor(((j + 0.5) * numCols) / 64);
      if (want[inj] < 0) want[inj] = used++;
      slot[j] = want[inj];
    }
    var ringRows = wc + 1, ring = new Float32Array(ringRows * numCols), produced = 0;
    var luma = new Float32Array(numCols);
    var rowAt = function (r) { /* offset in the ring of row r of the first row pass */
      while (produced <= r) {
        fillRow(produced, luma);
        boxRow(luma, 0, ring, (produced % ringRows) * numCols, numCols, wr, null);
        produced++;
      }
      return (r % ringRows) * numCols;
    };
    var c = new Float32Array(numRows * used), d = new Float32Array(numRows * used);
    var sums = new Float32Array(numCols), out = new Float32Array(numCols);
    var half = Math.floor((wc + 2) / 2);
    var p1 = half - 1, p2 = wc - half + 1, p3 = numRows - wc, p4 = half - 1;
    var li = 0, ri = 0, oi = 0, n = 0, t, offR, offL;
    for (t = 0; t < p1; t++) {
      offR = rowAt(ri++); n++;
      for (j = 0; j < numCols; j++) sums[j] += ring[offR + j];
    }
    for (t = 0; t < p2; t++) {
      offR = rowAt(ri++); n++;
      for (j = 0; j < numCols; j++) { sums[j] += ring[offR + j]; out[j] = sums[j] / n; }
      boxRow(out, 0, c, (oi++) * used, numCols, wr, want);
    }
    for (t = 0; t < p3; t++) {
      offR = rowAt(ri++); offL = (li++ % ringRows) * numCols;
      for (j = 0; j < numCols; j++) {
        sums[j] += ring[offR + j]; sums[j] -= ring[offL + j]; out[j] = sums[j] / n;
      }
      boxRow(out, 0, c, (oi++) * used, numCols, wr, want);
    }
    for (t = 0; t < p4; t++) {
      offL = (li++ % ringRows) * numCols; n--;
      for (j = 0; j < numCols; j++) { sums[j] -= ring[offL + j]; out[j] = sums[j] / n; }
      boxRow(out, 0, c, (oi++) * used, numCols, wr, want);
    }
    boxCols(c, d, numRows, used, wc);
    for (i = 0; i < 64; i++) {
      var ini = Math.floor(((i + 0.5) * numRows) / 64);
      for (j = 0; j < 64; j++) b64[i * 64 + j] = d[ini * used + slot[j]];
    }
  }
  var quality = qualityOf(b64);
  var t = new Float32Array(16 * 64), s;
  for (i = 0; i < 16; i++) for (j = 0; j < 64; j++) {
    s = 0;
    for (k = 0; k < 64; k++) s = fr(s + fr(DCT[i * 64 + k] * b64[k * 64 + j]));
    t[i * 64 + j] = s;
  }
  var b16 = new Float32Array(256);
  for (i = 0; i < 16; i++) for (j = 0; j < 16; j++) {
    s = 0;
    for (k = 0; k < 64; k++) s = fr(s + fr(t[i * 64 + k] * DCT[j * 64 + k]));
    b16[i * 16 + j] = s;
  }
  var median = torbenMedian(b16);
  var bytes = new Uint8Array(32);
  for (k = 0; k < 256; k++) if (b16[k] > median) bytes[31 - (k >> 3)] |= 1 << (k & 7);
  return { hash: hexOf(bytes), quality: quality };
}

/* PDQ of packed pixels. resize: apply the C++ CLI/WASM step (over 512 px → 512x512 nearest). */
function pdqOfPixels(px, width, height, channels, resize, mode) {
  var rows = null, cols = null, numRows = height, numCols = width;
  if (resize && (width > PDQ_DOWNSAMPLE || height > PDQ_DOWNSAMPLE)) {
    rows = nearestIndex(height, PDQ_DOWNSAMPLE);
    cols = nearestIndex(width, PDQ_DOWNSAMPLE);
    numRows = numCols = PDQ_DOWNSAMPLE;
  }
  return pdqCore(function (i, row) {
    lumaRow(px, width, channels, rows === null ? i : rows[i], cols, mode, row);
  }, numRows, numCols);
}

function hexOf(bytes) {
  var s = "";
  for (var i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  return s;
}

/* ---------------------------------------------------------------- MD5 (RFC 1321) */

var MD5_S = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21];
var MD5_K = (function () {
  var k = new Int32Array(64);
  for (var i = 0; i < 64; i++) k[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0;
  return k;
})();

function Md5() {
  this.h = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
  this.buf = new Uint8Array(64);
  this.bufLen = 0;
  this.total = 0;
  this.w = new Int32Array(16);
}

Md5.prototype.block = function (b, off) {
  var w = this.w, i;
  for (i = 0; i < 16; i++) {
    var p = off + i * 4;
    w[i] = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
  }
  var a = this.h[0], bb = this.h[1], c = this.h[2], d = this.h[3], f, g, tmp;
  for (i = 0; i < 64; i++) {
    if (i < 16) { f = (bb & c) | (~bb & d); g = i; }
    else if (i < 32) { f = (d & bb) | (~d & c); g = (5 * i + 1) & 15; }
    else if (i < 48) { f = bb ^ c ^ d; g = (3 * i + 5) & 15; }
    else { f = c ^ (bb | ~d); g = (7 * i) & 15; }
    tmp = d; d = c; c = bb;
    var x = (a + f + MD5_K[i] + w[g]) | 0;
    bb = (bb + ((x << MD5_S[i]) | (x >>> (32 - MD5_S[i])))) | 0;
    a = tmp;
  }
  this.h[0] = (this.h[0] + a) | 0; this.h[1] = (this.h[1] + bb) | 0;
  this.h[2] = (this.h[2] + c) | 0; this.h[3] = (this.h[3] + d) | 0;
};

Md5.prototype.update = function (bytes) {
  var i = 0, n = bytes.length;
  this.total += n;
  if (this.bufLen > 0) {
    while (i < n && this.bufLen < 64) this.buf[this.bufLen++] = bytes[i++];
    if (this.bufLen < 64) return;
    this.block(this.buf, 0); this.bufLen = 0;
  }
  for (; i + 64 <= n; i += 64) this.block(bytes, i);
  while (i < n) this.buf[this.bufLen++] = bytes[i++];
};

Md5.prototype.digest = function () {
  var bits = this.total * 8;
  var pad = new Uint8Array(((this.bufLen < 56 ? 56 : 120) - this.bufLen) + 8);
  pad[0] = 0x80;
  var lo = bits % 4294967296, hi = Math.floor(bits / 4294967296), e = pad.length - 8;
  for (var i = 0; i < 4; i++) { pad[e + i] = (lo >>> (8 * i)) & 255; pad[e + 4 + i] = (hi >>> (8 * i)) & 255; }
  this.total -= pad.length; /* padding is not message length */
  this.update(pad);
  var out = new Uint8Array(16);
  for (var j = 0; j < 4; j++) for (var q = 0; q < 4; q++) out[j * 4 + q] = (this.h[j] >>> (8 * q)) & 255;
  return hexOf(out);
};

function md5Hex(bytes) {
  var m = new Md5();
  m.update(bytes);
  return m.digest();
}

/* ---------------------------------------------------------------- SHA-256 (FIPS 180-4) */

var SHA_K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);

function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }

/* SHA-256 of a short byte string (the proof-of-work input); returns the 32-byte digest. */
function sha256(msg) {
  var len = msg.length, nBlocks = Math.ceil((len + 9) / 64);
  var data = new Uint8Array(nBlocks * 64);
  data.set(msg);
  data[len] = 0x80;
  var bits = len * 8, end = data.length;
  data[end - 4] = (bits >>> 24) & 255; data[end - 3] = (bits >>> 16) & 255;
  data[end - 2] = (bits >>> 8) & 255; data[end - 1] = bits & 255;
  var h = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  var w = new Int32Array(64), i, t;
  for (var blk = 0; blk < nBlocks; blk++) {
    var o = blk * 64;
    for (t = 0; t < 16; t++) {
      i = o + t * 4;
      w[t] = (data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3];
    }
    for (t = 16; t < 64; t++) {
      var s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
      var s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (t = 0; t < 64; t++) {
      var S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      var ch = (e & f) ^ (~e & g);
      var t1 = (hh + S1 + ch + SHA_K[t] + w[t]) | 0;
      var S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      var maj = (a & b) ^ (a & c) ^ (b & c);
      var t2 = (S0 + maj) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + hh) | 0;
  }
  var out = new Uint8Array(32);
  for (i = 0; i < 8; i++) {
    out[i * 4] = (h[i] >>> 24) & 255; out[i * 4 + 1] = (h[i] >>> 16) & 255;
    out[i * 4 + 2] = (h[i] >>> 8) & 255; out[i * 4 + 3] = h[i] & 255;
  }
  return out;
}

function leadingZeroBits(d) {
  var n = 0;
  for (var i = 0; i < d.length; i++) {
    if (d[i] === 0) { n += 8; continue; }
    var v = d[i];
    while ((v & 0x80) === 0) { n++; v <<= 1; }
    break;
  }
  return n;
}

/* Hashcash: the smallest counter such that SHA-256("<challenge>:<counter>") starts with `bits`
 * zero bits. The server checks it with one hash. */
function solvePow(challenge, bits) {
  var enc = new TextEncoder();
  for (var counter = 0; counter < 1e9; counter++) {
    if (leadingZeroBits(sha256(enc.encode(challenge + ":" + counter))) >= bits) return counter;
  }
  throw new Error("proof of work not found");
}

/* ---------------------------------------------------------------- files */

var MD5_CHUNK = 4 * 1024 * 1024;

async function md5OfFile(file, onProgress) {
  var m = new Md5();
  for (var off = 0; off < file.size; off += MD5_CHUNK) {
    var chunk = new Uint8Array(await file.slice(off, off + MD5_CHUNK).arrayBuffer());
    m.update(chunk);
    if (onProgress) onProgress(Math.min(1, (off + chunk.length) / Math.max(1, file.size)));
  }
  return m.digest();
}

/* EXIF orientation (tag 0x0112 in IFD0) of a JPEG, 1 when absent. */
function jpegOrientation(b) {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return 1;
  var p = 2;
  while (p + 4 <= b.length && b[p] === 0xff) {
    var marker = b[p + 1], size = (b[p + 2] << 8) | b[p + 3];
    if (marker === 0xda) break;
    if (marker === 0xe1 && size >= 16 && b[p + 4] === 0x45 && b[p + 5] === 0x78 &&
        b[p + 6] === 0x69 && b[p + 7] === 0x66) {
      var t = p + 10, le = b[t] === 0x49;
      var u16 = function (o) { return le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1]; };
      var u32 = function (o) {
        return le ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
          : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
      };
      var ifd = t + u32(t + 4);
      if (ifd + 2 > b.length) return 1;
      var count = u16(ifd);
      for (var i = 0; i < count; i++) {
        var e = ifd + 2 + i * 12;
        if (e + 12 > b.length) return 1;
        if (u16(e) === 0x0112) {
          var v = u16(e + 8);
          return v >= 1 && v <= 8 ? v : 1;
        }
      }
      return 1;
    }
    p += 2 + size;
  }
  return 1;
}

/* Undo an applied EXIF orientation: from the displayed RGBA pixels back to the stored ones (the
 * hash of record is computed on the stored pixels, as the reference reads them). */
function storedPixels(disp, dw, dh, orientation) {
  if (orientation <= 1) return { px: disp, width: dw, height: dh };
  var swap = orientation >= 5;
  var W = swap ? dh : dw, H = swap ? dw : dh;
  var out = new Uint8ClampedArray(W * H * 4);
  var src = new Uint32Array(disp.buffer, disp.byteOffset, dw * dh);
  var dst = new Uint32Array(out.buffer);
  for (var y = 0; y < H; y++) {
    for (var x = 0; x < W; x++) {
      var dx, dy;
      switch (orientation) {
        case 2: dx = W - 1 - x; dy = y; break;
        case 3: dx = W - 1 - x; dy = H - 1 - y; break;
        case 4: dx = x; dy = H - 1 - y; break;
        case 5: dx = y; dy = x; break;
        case 6: dx = H - 1 - y; dy = x; break;
        case 7: dx = H - 1 - y; dy = W - 1 - x; break;
        default: dx = y; dy = W - 1 - x; break; /* 8 */
      }
      dst[y * W + x] = src[dy * dw + dx];
    }
  }
  return { px: out, width: W, height: H };
}

async function decodeImage(file) {
  var head = new Uint8Array(await file.slice(0, 256 * 1024).arrayBuffer());
  var orientation = jpegOrientation(head);
  var bmp = await createImageBitmap(file, {
    imageOrientation: "from-image",
    colorSpaceConversion: "none",
    premultiplyAlpha: "none",
  });
  var canvas = new OffscreenCanvas(bmp.width, bmp.height);
  var ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bmp, 0, 0);
  var img = ctx.getImageData(0, 0, bmp.width, bmp.height);
  bmp.close();
  return storedPixels(img.data, img.width, img.height, orientation);
}

/* Image or video, from the type the browser reports, else from the first bytes. */
function kindOf(file, head) {
  var t = (file.type || "").toLowerCase();
  if (t.indexOf("image/") === 0) return "image";
  if (t.indexOf("video/") === 0) return "video";
  var b = head, ascii = function (o, n) { return String.fromCharCode.apply(null, b.subarray(o, o + n)); };
  if (b.length >= 12) {
    if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image"; /* JPEG */
    if (ascii(1, 3) === "PNG" || ascii(0, 3) === "GIF" || ascii(0, 2) === "BM") return "image";
    if (ascii(0, 4) === "RIFF" && ascii(8, 4) === "WEBP") return "image";
    if (ascii(4, 4) === "ftyp" && /^(avif|avis|heic|heix|mif1)$/.test(ascii(8, 4))) return "image";
  }
  return "video";
}

async function hashFile(file, progress) {
  var t0 = performance.now();
  var kind = kindOf(file, new Uint8Array(await file.slice(0, 16).arrayBuffer()));
  var out = { kind: kind, bytes: file.size, md5: await md5OfFile(file, progress) };
  if (kind === "image") {
    var t1 = performance.now();
    var img;
    try {
      img = await decodeImage(file);
    } catch (e) { /* a format this browser cannot decode (e.g. HEIC): the exact MD5 still goes */
      out.decoded = false;
      out.ms = performance.now() - t0;
      return out;
    }
    var t2 = performance.now();
    var full = pdqOfPixels(img.px, img.width, img.height, 4, false, "pdqhash");
    var t3 = performance.now();
    var small = pdqOfPixels(img.px, img.width, img.height, 4, true, "pdqhash");
    var t4 = performance.now();
    out.pdq = full.hash;
    out.pdq_quality = full.quality;
    out.pdq_resized = small.hash;
    out.width = img.width;
    out.height = img.height;
    out.timings_ms = { md5: t1 - t0, decode: t2 - t1, pdq: t3 - t2, pdq_resized: t4 - t3 };
  }
  out.ms = performance.now() - t0;
  return out;
}

/* ---------------------------------------------------------------- worker protocol */

scope.AmparoHashing = { pdqOfPixels: pdqOfPixels, md5Hex: md5Hex, sha256: sha256, solvePow: solvePow };

if (typeof WorkerGlobalScope !== "undefined" && typeof scope.postMessage === "function") {
  scope.onmessage = async function (ev) {
    var m = ev.data || {}, id = m.id;
    try {
      var result;
      if (m.op === "hash-file") {
        result = await hashFile(m.file, function (p) { scope.postMessage({ id: id, progress: p }); });
      } else if (m.op === "pdq-pixels") {
        var t0 = performance.now();
        result = pdqOfPixels(m.data, m.width, m.height, m.channels || 4, !!m.resize, m.luma || "pdqhash");
        result.ms = performance.now() - t0;
      } else if (m.op === "md5") {
        result = { md5: md5Hex(new Uint8Array(m.data)) };
      } else if (m.op === "pow") {
        result = { counter: solvePow(m.challenge, m.bits) };
      } else {
        throw new Error("unknown op");
      }
      scope.postMessage({ id: id, ok: true, result: result });
    } catch (e) {
      scope.postMessage({ id: id, ok: false, error: String((e && e.message) || e) });
    }
  };
}
})(typeof self !== "undefined" ? self : globalThis);
