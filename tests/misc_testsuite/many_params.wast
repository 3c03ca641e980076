;; Signatures with more parameters and results than there are argument registers, through
;; every kind of call: direct, imported (import stub), indirect (call_indirect through a table
;; shared between instances) and from the host.

(module $callee
  (type $big (func (param i32 i64 f32 f64 i32 i64 f32 f64 i32 i64 f32 f64 i32 i64 f32 f64)
                   (result f64 i64 i32 f32 f64 i64)))
  (table $t (export "table") 2 funcref)
  (elem (i32.const 0) $big)
  ;; Returns a mix of its parameters so that every position is checked.
  (func $big (export "big") (type $big)
    local.get 15
    local.get 13
    local.get 12
    local.get 14
    ;; Sum of all f64 parameters.
    local.get 3 local.get 7 f64.add local.get 11 f64.add local.get 15 f64.add
    ;; Sum of all i64 parameters plus all i32 parameters.
    local.get 1 local.get 5 i64.add local.get 9 i64.add local.get 13 i64.add
    local.get 0 i64.extend_i32_s i64.add
    local.get 4 i64.extend_i32_s i64.add
    local.get 8 i64.extend_i32_s i64.add
    local.get 12 i64.extend_i32_s i64.add)
  (func (export "direct") (result f64 i64 i32 f32 f64 i64)
    i32.const 1 i64.const 2 f32.const 3 f64.const 4
    i32.const 5 i64.const 6 f32.const 7 f64.const 8
    i32.const 9 i64.const 10 f32.const 11 f64.const 12
    i32.const 13 i64.const 14 f32.const 15 f64.const 16
    call $big)
)
(register "callee" $callee)

(assert_return (invoke $callee "big"
    (i32.const 1) (i64.const 2) (f32.const 3) (f64.const 4)
    (i32.const 5) (i64.const 6) (f32.const 7) (f64.const 8)
    (i32.const 9) (i64.const 10) (f32.const 11) (f64.const 12)
    (i32.const 13) (i64.const 14) (f32.const 15) (f64.const 16))
  (f64.const 16) (i64.const 14) (i32.const 13) (f32.const 15) (f64.const 40) (i64.const 60))
(assert_return (invoke $callee "direct")
  (f64.const 16) (i64.const 14) (i32.const 13) (f32.const 15) (f64.const 40) (i64.const 60))

(module $caller
  (type $big (func (param i32 i64 f32 f64 i32 i64 f32 f64 i32 i64 f32 f64 i32 i64 f32 f64)
                   (result f64 i64 i32 f32 f64 i64)))
  (import "callee" "big" (func $big (type $big)))
  (import "callee" "table" (table 2 funcref))
  (elem declare func $big)
  (func $args
    (result i32 i64 f32 f64 i32 i64 f32 f64 i32 i64 f32 f64 i32 i64 f32 f64)
    i32.const -1 i64.const -2 f32.const -3 f64.const -4
    i32.const -5 i64.const -6 f32.const -7 f64.const -8
    i32.const -9 i64.const -10 f32.const -11 f64.const -12
    i32.const -13 i64.const -14 f32.const -15 f64.const -16)
  (func (export "imported") (result f64 i64 i32 f32 f64 i64)
    call $args
    call $big)
  (func (export "indirect") (result f64 i64 i32 f32 f64 i64)
    call $args
    i32.const 0
    call_indirect (type $big))
  ;; Put our own import into slot 1 of the shared table and call it from there.
  (func (export "indirect-via-import") (result f64 i64 i32 f32 f64 i64)
    i32.const 1
    ref.func $big
    table.set 0
    call $args
    i32.const 1
    call_indirect (type $big))
  (func (export "wrong-type") (result i32)
    i32.const 0
    call_indirect (result i32))
)

(assert_return (invoke $caller "imported")
  (f64.const -16) (i64.const -14) (i32.const -13) (f32.const -15) (f64.const -40) (i64.const -60))
(assert_return (invoke $caller "indirect")
  (f64.const -16) (i64.const -14) (i32.const -13) (f32.const -15) (f64.const -40) (i64.const -60))
(assert_return (invoke $caller "indirect-via-import")
  (f64.const -16) (i64.const -14) (i32.const -13) (f32.const -15) (f64.const -40) (i64.const -60))
(assert_trap (invoke $caller "wrong-type") "indirect call type mismatch")
