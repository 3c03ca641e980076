;; A small plugin for the static-host example: arithmetic, a call back into the host, a
;; trap, and a reference-typed export (called through the untyped path of the bindings).
(module
  (import "host" "log" (func $log (param i32)))
  (func (export "add") (param $a i32) (param $b i32) (result i32)
    local.get $a
    local.get $b
    i32.add)
  (func (export "hypot") (param $x f64) (param $y f64) (result f64)
    (f64.sqrt (f64.add (f64.mul (local.get $x) (local.get $x))
                       (f64.mul (local.get $y) (local.get $y)))))
  ;; Reports 1..=n to the host and returns their sum.
  (func (export "count-to") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (call $log (local.get $i))
        (local.set $sum (i32.add (local.get $sum) (local.get $i)))
        (br $next)))
    local.get $sum)
  (func (export "div") (param $a i32) (param $b i32) (result i32)
    (i32.div_s (local.get $a) (local.get $b)))
  (func (export "echo") (param $r externref) (result externref i32)
    local.get $r
    (ref.is_null (local.get $r))))
