;; The age calculator: imports how to log and what year it is from the host, exports
;; `get_age` (computed in Wasm, printed by the host) and `log_age` (printed through the
;; imported `log_i32`).
(module
  (import "env" "log_i32" (func $log_i32 (param i32)))
  (import "env" "current_year" (func $current_year (result i32)))
  (func $get_age (export "get_age") (param $year_born i32) (result i32)
    call $current_year
    local.get $year_born
    i32.sub)
  (func (export "log_age") (param $year_born i32)
    local.get $year_born
    call $get_age
    call $log_i32))
