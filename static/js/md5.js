// MD5 of bytes in the browser (RFC 1321), for one purpose: an upload part's S3 ETag is the MD5 of its
// bytes (the hub's local storage gives the same), so the uploader can tell whether a part already
// stored is the same slice of the file being resumed (upload.js). Not used for security.
// window.hubMd5(Uint8Array) -> 32 lowercase hex digits.
(function () {
  "use strict";
  const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
  const K = new Int32Array(64);
  for (let i = 0; i < 64; i += 1) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0;

  function md5(bytes) {
    const state = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
    const words = new Int32Array(16);

    function block(src, offset) {
      for (let i = 0; i < 16; i += 1) {
        const j = offset + i * 4;
        words[i] = src[j] | (src[j + 1] << 8) | (src[j + 2] << 16) | (src[j + 3] << 24);
      }
      let a = state[0], b = state[1], c = state[2], d = state[3];
      for (let i = 0; i < 64; i += 1) {
        let f, g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) & 15; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) & 15; }
        else { f = c ^ (b | ~d); g = (7 * i) & 15; }
        f = (f + a + K[i] + words[g]) | 0;
        a = d; d = c; c = b;
        const s = SHIFTS[((i >> 4) << 2) + (i & 3)];
        b = (b + ((f << s) | (f >>> (32 - s)))) | 0;
      }
      state[0] += a; state[1] += b; state[2] += c; state[3] += d;
    }

    const length = bytes.length;
    const whole = length - (length % 64);
    for (let offset = 0; offset < whole; offset += 64) block(bytes, offset);
    // The tail: the last bytes, a 1 bit, zeros, and the length in bits (64-bit little-endian).
    const rest = length - whole;
    const tail = new Uint8Array(rest < 56 ? 64 : 128);
    tail.set(bytes.subarray(whole));
    tail[rest] = 0x80;
    const bits = length * 8;
    const low = bits >>> 0, high = Math.floor(bits / 4294967296) >>> 0;
    for (let i = 0; i < 4; i += 1) {
      tail[tail.length - 8 + i] = (low >>> (8 * i)) & 255;
      tail[tail.length - 4 + i] = (high >>> (8 * i)) & 255;
    }
    for (let offset = 0; offset < tail.length; offset += 64) block(tail, offset);

    let hex = "";
    for (let i = 0; i < 4; i += 1) {
      for (let j = 0; j < 4; j += 1) hex += ((state[i] >>> (8 * j)) & 255).toString(16).padStart(2, "0");
    }
    return hex;
  }

  window.hubMd5 = md5;
})();
