;; A plugin that links against host.toml: WASI, a renamed module (`env_v1`), a renamed
;; import (`env.now`), and the three exports the host requires. It does not import
;; `env.abort`, which `wasmc check` notes without failing.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "env_v1" "log" (func $log (param i32 i32)))
  (import "env" "now" (func $now (result i64)))
  (import "env" "scratch" (memory 1))
  (memory (export "memory") 1)
  (func (export "_initialize"))
  (func $process (export "process") (param i32) (result i32)
    (drop (call $now))
    (local.get 0)))
