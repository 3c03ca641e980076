;; Imports of every kind: host functions, globals, a table and a memory from `spectest`, and
;; functions, globals, tables and memories exported by another (registered) Wasm instance.

(module
  (import "spectest" "print_i32" (func $print_i32 (param i32)))
  (import "spectest" "global_i32" (global $g i32))
  (import "spectest" "global_f64" (global $gf f64))
  (import "spectest" "memory" (memory 1))
  (import "spectest" "table" (table 10 funcref))
  (func (export "call-host") (param i32) (result i32)
    local.get 0
    call $print_i32
    local.get 0
    i32.const 1
    i32.add)
  (func (export "host-global") (result i32) global.get $g)
  (func (export "host-global-f64") (result f64) global.get $gf)
  (func (export "mem-roundtrip") (param i32) (result i32)
    i32.const 100
    local.get 0
    i32.store
    i32.const 100
    i32.load)
  (func (export "mem-size") (result i32) memory.size)
  (func (export "table-size") (result i32) table.size 0)
)

(assert_return (invoke "call-host" (i32.const 41)) (i32.const 42))
(assert_return (invoke "host-global") (i32.const 666))
(assert_return (invoke "host-global-f64") (f64.const 666.6))
(assert_return (invoke "mem-roundtrip" (i32.const -123)) (i32.const -123))
(assert_return (invoke "mem-size") (i32.const 1))
(assert_return (invoke "table-size") (i32.const 10))

;; A Wasm instance exporting everything, registered for the next module to import.
(module $provider
  (global $counter (export "counter") (mut i32) (i32.const 0))
  (memory (export "mem") 1 3)
  (table $t (export "tab") 4 funcref)
  (elem (i32.const 0) $seven $bump)
  (func $seven (export "seven") (result i32) i32.const 7)
  (func $bump (export "bump") (result i32)
    global.get $counter
    i32.const 1
    i32.add
    global.set $counter
    global.get $counter)
  (func (export "peek") (param i32) (result i32) local.get 0 i32.load8_u)
)
(register "provider" $provider)

(module $consumer
  (import "provider" "seven" (func $seven (result i32)))
  (import "provider" "bump" (func $bump (result i32)))
  (import "provider" "counter" (global $counter (mut i32)))
  (import "provider" "mem" (memory 1))
  (import "provider" "tab" (table 4 funcref))
  (type $r (func (result i32)))
  (data (i32.const 5) "\2a")
  (func (export "seven-plus-one") (result i32) call $seven i32.const 1 i32.add)
  (func (export "bump-twice") (result i32) call $bump drop call $bump)
  (func (export "counter") (result i32) global.get $counter)
  (func (export "set-counter") (param i32) local.get 0 global.set $counter)
  (func (export "indirect") (param i32) (result i32)
    local.get 0
    call_indirect (type $r))
  (func (export "grow") (result i32) i32.const 1 memory.grow)
)

(assert_return (invoke $consumer "seven-plus-one") (i32.const 8))
(assert_return (invoke $consumer "bump-twice") (i32.const 2))
(assert_return (invoke $consumer "counter") (i32.const 2))
(assert_return (invoke $provider "bump") (i32.const 3))
(invoke $consumer "set-counter" (i32.const 100))
(assert_return (get $provider "counter") (i32.const 100))
;; The consumer's data segment landed in the provider's memory.
(assert_return (invoke $provider "peek" (i32.const 5)) (i32.const 42))
;; Indirect calls through the shared table reach the provider's functions with its vmctx.
(assert_return (invoke $consumer "indirect" (i32.const 0)) (i32.const 7))
(assert_return (invoke $consumer "indirect" (i32.const 1)) (i32.const 101))
(assert_trap (invoke $consumer "indirect" (i32.const 2)) "uninitialized element")
(assert_trap (invoke $consumer "indirect" (i32.const 4)) "undefined element")
;; Growing the imported memory is visible to both.
(assert_return (invoke $consumer "grow") (i32.const 1))
(assert_return (invoke $consumer "grow") (i32.const 2))
(assert_return (invoke $consumer "grow") (i32.const -1))

(assert_unlinkable
  (module (import "provider" "missing" (func)))
  "unknown import")
(assert_unlinkable
  (module (import "provider" "seven" (func (param i32))))
  "incompatible import type")
(assert_unlinkable
  (module (import "provider" "mem" (memory 4)))
  "incompatible import type")
