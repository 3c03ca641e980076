;; A second module linked into the same executable: its symbols (prefix `other_plugin`) must
;; not clash with `plugin`'s, and its code has the same local function names.
(module
  (func (export "add") (param $a i32) (param $b i32) (result i32)
    (i32.mul (local.get $a) (local.get $b))))
