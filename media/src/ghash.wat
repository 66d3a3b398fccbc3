;; GHASH (NIST SP 800-38D) over a table of 16 multiples of H per key, for media/src/aesGcm.ts.
;; Compiled by `npm run wasm` (scripts/wasm.mjs, with wabt) into media/src/ghashWasm.ts, which is
;; committed; test/media/ghashWasm.test.ts fails when the two drift apart.
;;
;; Why WebAssembly: the JavaScript version worked on four 32-bit words and, with 256 multiples of H
;; per key (4 KiB), missed the cache on most lookups once a node held a few hundred SRTP sessions;
;; here the state is two 64-bit words and a key's table is 256 bytes (four cache lines).
;;
;; Numbers: an element of GF(2^128) is 16 bytes in GCM's order (the first byte's top bit is x^0);
;; read as one big-endian 128-bit number, multiplying by x is a shift right by one.
(module
  (memory (export "memory") 1)
  ;; bytes 0-15: the GHASH state, as 16 bytes in GCM's order
  ;; bytes 128-255: for each nibble shifted out, its reduction (x^128 = x^7 + x^2 + x + 1) as the top 64 bits
  ;; a key's table anywhere else: 16 entries of 16 bytes, nibble n (as an element's first nibble) times H,
  ;; each entry its high then its low 64 bits as little-endian numbers

  (func $bswap (param $x i64) (result i64)
    (local.set $x (i64.or
      (i64.and (i64.shr_u (local.get $x) (i64.const 8)) (i64.const 0x00ff00ff00ff00ff))
      (i64.shl (i64.and (local.get $x) (i64.const 0x00ff00ff00ff00ff)) (i64.const 8))))
    (local.set $x (i64.or
      (i64.and (i64.shr_u (local.get $x) (i64.const 16)) (i64.const 0x0000ffff0000ffff))
      (i64.shl (i64.and (local.get $x) (i64.const 0x0000ffff0000ffff)) (i64.const 16))))
    (i64.rotl (local.get $x) (i64.const 32)))

  ;; state = (state xor block) * H for each 16-byte block of the len bytes at data (len a multiple of 16)
  (func (export "ghash") (param $table i32) (param $data i32) (param $len i32)
    (local $hi i64) (local $lo i64) (local $yhi i64) (local $ylo i64) (local $word i64)
    (local $end i32) (local $half i32) (local $shift i64) (local $low i32) (local $entry i32)
    (local.set $hi (call $bswap (i64.load (i32.const 0))))
    (local.set $lo (call $bswap (i64.load (i32.const 8))))
    (local.set $end (i32.add (local.get $data) (local.get $len)))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $data) (local.get $end)))
        (local.set $yhi (i64.xor (local.get $hi) (call $bswap (i64.load (local.get $data)))))
        (local.set $ylo (i64.xor (local.get $lo) (call $bswap (i64.load offset=8 (local.get $data)))))
        (local.set $hi (i64.const 0))
        (local.set $lo (i64.const 0))
        ;; Horner over the 32 nibbles of y, the last first: z = z x^4 + M[nibble]
        (local.set $half (i32.const 0))
        (loop $halves
          (local.set $word (select (local.get $ylo) (local.get $yhi) (i32.eqz (local.get $half))))
          (local.set $shift (i64.const 0))
          (loop $nibbles
            (local.set $low (i32.wrap_i64 (i64.and (local.get $lo) (i64.const 15))))
            (local.set $lo (i64.or (i64.shr_u (local.get $lo) (i64.const 4)) (i64.shl (local.get $hi) (i64.const 60))))
            (local.set $hi (i64.xor (i64.shr_u (local.get $hi) (i64.const 4))
              (i64.load offset=128 (i32.shl (local.get $low) (i32.const 3)))))
            (local.set $entry (i32.add (local.get $table)
              (i32.shl (i32.wrap_i64 (i64.and (i64.shr_u (local.get $word) (local.get $shift)) (i64.const 15))) (i32.const 4))))
            (local.set $hi (i64.xor (local.get $hi) (i64.load (local.get $entry))))
            (local.set $lo (i64.xor (local.get $lo) (i64.load offset=8 (local.get $entry))))
            (local.set $shift (i64.add (local.get $shift) (i64.const 4)))
            (br_if $nibbles (i64.lt_u (local.get $shift) (i64.const 64))))
          (local.set $half (i32.add (local.get $half) (i32.const 1)))
          (br_if $halves (i32.lt_u (local.get $half) (i32.const 2))))
        (local.set $data (i32.add (local.get $data) (i32.const 16)))
        (br $blocks)))
    (i64.store (i32.const 0) (call $bswap (local.get $hi)))
    (i64.store (i32.const 8) (call $bswap (local.get $lo))))

  ;; dst[i] = a[i] xor b[i] for len bytes, rounded up to whole 8-byte words
  (func (export "xor") (param $dst i32) (param $a i32) (param $b i32) (param $len i32)
    (local $i i32)
    (block $done
      (loop $words
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (i64.store (i32.add (local.get $dst) (local.get $i))
          (i64.xor (i64.load (i32.add (local.get $a) (local.get $i))) (i64.load (i32.add (local.get $b) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $words))))
)
