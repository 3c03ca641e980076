;; A plugin that does not link against host.toml: `env.log` has the wrong signature,
;; `env.missing` is not provided, `process` has the wrong type and `_initialize` is absent.
(module
  (import "env" "log" (func $log (param i64)))
  (import "env" "missing" (func $missing))
  (memory (export "memory") 1)
  (func $process (export "process") (param i64) (result i64) (local.get 0)))
