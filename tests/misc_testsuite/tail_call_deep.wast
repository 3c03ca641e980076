;; Tail calls run in constant stack: 10 million mutually recursive `return_call`s and
;; `return_call_indirect`s (a plain `call` chain this deep would overflow the 512 KiB Wasm
;; stack after some thousands of frames). Also tail calls whose callee takes more arguments
;; than fit in registers (the `tail` convention's callee pops stack arguments), and tail
;; calls to an imported host function and to another module's function.

(module $m
  (type $ty (func (param i64) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $even_i $odd_i)

  (func $even (export "even") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 1))
      (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
  (func $odd (export "odd") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call $even (i64.sub (local.get 0) (i64.const 1))))))

  (func $even_i (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 1))
      (else (return_call_indirect (type $ty)
        (i64.sub (local.get 0) (i64.const 1)) (i32.const 1)))))
  (func $odd_i (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call_indirect (type $ty)
        (i64.sub (local.get 0) (i64.const 1)) (i32.const 0)))))
  (func (export "even_indirect") (param i64) (result i32)
    (return_call $even_i (local.get 0)))

  ;; Alternates between 1 and 16 parameters: every other call grows the stack arguments.
  (func $few (param $n i64) (param $acc i64) (result i64)
    (if (result i64) (i64.eqz (local.get $n))
      (then (local.get $acc))
      (else (return_call $many
        (i64.sub (local.get $n) (i64.const 1)) (local.get $acc)
        (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5)
        (i64.const 6) (i64.const 7) (i64.const 8) (i64.const 9) (i64.const 10)
        (i64.const 11) (i64.const 12) (i64.const 13) (i64.const 14)))))
  (func $many (param $n i64) (param $acc i64)
    (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)
    (return_call $few (local.get $n)
      (i64.add (local.get $acc) (i64.add (local.get 2) (local.get 15)))))
  (func (export "stack_args") (param i64) (result i64)
    (return_call $few (local.get 0) (i64.const 0)))
)

(assert_return (invoke "even" (i64.const 10000000)) (i32.const 1))
(assert_return (invoke "odd" (i64.const 10000000)) (i32.const 0))
(assert_return (invoke "even" (i64.const 10000001)) (i32.const 0))
(assert_return (invoke "even_indirect" (i64.const 10000000)) (i32.const 1))
(assert_return (invoke "even_indirect" (i64.const 9999999)) (i32.const 0))
;; 10 million decrements, each passing through $many once and adding 1 + 14.
(assert_return (invoke "stack_args" (i64.const 10000000)) (i64.const 150000000))

(register "m" $m)

(module
  (import "spectest" "print_i32" (func $print (param i32)))
  (import "m" "even" (func $even (param i64) (result i32)))
  (func (export "host") (param i32) (return_call $print (local.get 0)))
  (func (export "cross") (param i64) (result i32) (return_call $even (local.get 0)))
  (func $loop (param $n i32)
    (if (i32.eqz (local.get $n)) (then (return_call $print (i32.const 42))))
    (return_call $loop (i32.sub (local.get $n) (i32.const 1))))
  (func (export "loop_then_host") (param i32) (return_call $loop (local.get 0)))
)

(assert_return (invoke "host" (i32.const 7)))
(assert_return (invoke "cross" (i64.const 1000001)) (i32.const 0))
(assert_return (invoke "loop_then_host" (i32.const 1000000)))
