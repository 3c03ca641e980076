;; Multi-value: functions, blocks, loops and indirect calls with several results, including
;; more results than fit in registers (those go through the implicit return area).

(module
  (type $two (func (result i32 i64)))
  (func $pair (export "pair") (param i32 i64) (result i32 i64)
    local.get 0
    local.get 1)
  (func (export "swap") (param i32 f64) (result f64 i32)
    local.get 1
    local.get 0)
  (func (export "many") (result i32 i64 f32 f64 i32 i64 f32 f64 i32 i64)
    i32.const 1 i64.const 2 f32.const 3.5 f64.const 4.25
    i32.const 5 i64.const 6 f32.const 7.5 f64.const 8.25
    i32.const 9 i64.const 10)
  (func (export "block-params") (param i32) (result i32 i32)
    local.get 0
    i32.const 10
    block (param i32 i32) (result i32 i32)
      i32.add
      i32.const 3
    end)
  (func (export "loop-params") (param i32) (result i32)
    ;; Sums 1..n with the running pair (i, acc) as loop parameters.
    i32.const 0
    local.get 0
    loop (param i32 i32) (result i32)
      local.tee 0
      i32.add
      local.get 0
      i32.const 1
      i32.sub
      local.tee 0
      local.get 0
      br_if 0
      drop
    end)
  (table funcref (elem $pair-const))
  (func $pair-const (type $two) i32.const 7 i64.const -8)
  (func (export "indirect") (result i32 i64)
    i32.const 0
    call_indirect (type $two))
)

(assert_return (invoke "pair" (i32.const 1) (i64.const -2)) (i32.const 1) (i64.const -2))
(assert_return (invoke "swap" (i32.const 3) (f64.const 1.5)) (f64.const 1.5) (i32.const 3))
(assert_return (invoke "many")
  (i32.const 1) (i64.const 2) (f32.const 3.5) (f64.const 4.25)
  (i32.const 5) (i64.const 6) (f32.const 7.5) (f64.const 8.25)
  (i32.const 9) (i64.const 10))
(assert_return (invoke "block-params" (i32.const 5)) (i32.const 15) (i32.const 3))
(assert_return (invoke "loop-params" (i32.const 4)) (i32.const 10))
(assert_return (invoke "indirect") (i32.const 7) (i64.const -8))
