;; Traps that cross instances and calls, and that instances keep working after a trap.

(module $callee
  (func (export "div") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.div_s)
  (func $deep (export "deep") (param i32) (result i32)
    local.get 0
    i32.eqz
    if (result i32)
      unreachable
    else
      local.get 0
      i32.const 1
      i32.sub
      call $deep
    end)
  (func $forever (export "forever") (param i32) (result i32)
    local.get 0
    i32.const 1
    i32.add
    call $forever)
)
(register "callee" $callee)

(module $caller
  (import "callee" "div" (func $div (param i32 i32) (result i32)))
  (import "callee" "deep" (func $deep (param i32) (result i32)))
  (import "callee" "forever" (func $forever (param i32) (result i32)))
  (func (export "div") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    call $div)
  (func (export "deep") (param i32) (result i32)
    local.get 0
    call $deep)
  (func (export "forever") (result i32)
    i32.const 0
    call $forever)
)

(assert_return (invoke $caller "div" (i32.const 7) (i32.const 2)) (i32.const 3))
(assert_trap (invoke $caller "div" (i32.const 7) (i32.const 0)) "integer divide by zero")
(assert_trap (invoke $caller "div" (i32.const 0x80000000) (i32.const -1)) "integer overflow")
(assert_return (invoke $caller "div" (i32.const -9) (i32.const 3)) (i32.const -3))
;; A trap deep inside a recursion unwinds every frame.
(assert_trap (invoke $caller "deep" (i32.const 1000)) "unreachable")
(assert_exhaustion (invoke $caller "forever") "call stack exhausted")
;; After stack exhaustion the stack limit is intact: deep but finite recursion still works,
;; and exhaustion is detected again.
(assert_trap (invoke $caller "deep" (i32.const 5000)) "unreachable")
(assert_exhaustion (invoke $callee "forever" (i32.const 0)) "call stack exhausted")
(assert_return (invoke $callee "div" (i32.const 10) (i32.const 5)) (i32.const 2))

;; A trapping start function: the instantiation fails, but the segments applied before the
;; start function ran stay visible through the shared memory.
(module $mem
  (memory (export "m") 1)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load8_u)
)
(register "mem" $mem)
(assert_trap
  (module
    (import "mem" "m" (memory 1))
    (data (i32.const 0) "\07")
    (func $start unreachable)
    (start $start))
  "unreachable")
(assert_return (invoke $mem "load" (i32.const 0)) (i32.const 7))
;; An out-of-bounds data segment traps at instantiation; earlier segments stay.
(assert_trap
  (module
    (import "mem" "m" (memory 1))
    (data (i32.const 1) "\08")
    (data (i32.const 65536) "\09"))
  "out of bounds memory access")
(assert_return (invoke $mem "load" (i32.const 1)) (i32.const 8))
