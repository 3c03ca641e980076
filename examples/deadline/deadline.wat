;; `spin` never returns: a loop with no calls. Only an epoch check at its header (compiled
;; in by default) lets the host stop it. `count` is ordinary work.
(module
  (func $spin (export "spin") (loop $forever br $forever))
  (func (export "count") (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      local.get $i i32.const 1 i32.add local.set $i
      local.get $i local.get $n i32.lt_u br_if $l)
    local.get $i))
