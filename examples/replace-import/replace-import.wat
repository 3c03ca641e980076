;; A module written against the old WASI module name and a monolithic `env`: after
;; renaming, `wasi_unstable` resolves in `wasi_snapshot_preview1`, and `env`'s functions in
;; the host's `console` and `math` modules. Nothing is recompiled.
(module
  (import "wasi_unstable" "sched_yield" (func $yield (result i32)))
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "print_i32" (func $print (param i32)))
  (func (export "run") (param $a i32) (param $b i32)
    call $yield
    drop
    local.get $a
    local.get $b
    call $add
    call $print))
