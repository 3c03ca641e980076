;; Memory growth seen through every path: the growing instance, another instance importing
;; the same memory, and bounds checks with offsets that exceed the guard region.

(module $m
  (memory (export "mem") 1 4)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "size") (result i32) memory.size)
  (func (export "load-far") (param i32) (result i32)
    local.get 0 i32.load offset=0x10000)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
)
(register "m" $m)

(module $other
  (import "m" "mem" (memory 1))
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "load-huge-offset") (param i32) (result i32)
    local.get 0 i32.load offset=0xffff0000)
  (func (export "size") (result i32) memory.size)
)

(assert_trap (invoke $m "load-far" (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke $other "load" (i32.const 65533)) "out of bounds memory access")
(assert_return (invoke $m "grow" (i32.const 1)) (i32.const 1))
(assert_return (invoke $other "size") (i32.const 2))
;; The page that just became accessible is usable from both instances.
(invoke $m "store" (i32.const 65536) (i32.const 0x1234))
(assert_return (invoke $m "load-far" (i32.const 0)) (i32.const 0x1234))
(assert_return (invoke $other "load" (i32.const 65536)) (i32.const 0x1234))
(assert_return (invoke $other "load" (i32.const 65533)) (i32.const 0x34000000))
(assert_trap (invoke $other "load" (i32.const 131069)) "out of bounds memory access")
(assert_trap (invoke $other "load-huge-offset" (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke $other "load-huge-offset" (i32.const 0xffff)) "out of bounds memory access")
;; Growing past the maximum fails without changing anything.
(assert_return (invoke $m "grow" (i32.const 3)) (i32.const -1))
(assert_return (invoke $m "grow" (i32.const 2)) (i32.const 2))
(assert_return (invoke $other "size") (i32.const 4))
(assert_return (invoke $m "grow" (i32.const 0)) (i32.const 4))
(assert_return (invoke $m "grow" (i32.const 1)) (i32.const -1))
(assert_return (invoke $other "load" (i32.const 262140)) (i32.const 0))
(assert_trap (invoke $other "load" (i32.const 262141)) "out of bounds memory access")
