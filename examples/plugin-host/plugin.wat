;; A reactor plugin: `_initialize` runs once (setting its state up and greeting the host
;; through an imported function that reads the plugin's memory), then the host calls
;; `process` many times on the same live instance.
(module
  (import "host" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "plugin initialised")
  (global $calls (mut i32) (i32.const 0))
  (global $base (mut i32) (i32.const 0))
  (func (export "_initialize")
    i32.const 100
    global.set $base
    i32.const 16
    i32.const 18
    call $log)
  (func (export "process") (param $x i32) (result i32)
    global.get $calls
    i32.const 1
    i32.add
    global.set $calls
    local.get $x
    local.get $x
    i32.mul
    global.get $base
    i32.add)
  (func (export "calls") (result i32)
    global.get $calls))
