;; Several parameter and result types, for `wasmc run --invoke`:
;;
;;   wasmc run --invoke add examples/add.wat -1 2             # prints 1
;;   wasmc run --invoke div examples/add.wat 7 2              # prints 3.5
;;   wasmc run --invoke divmod examples/add.wat 17 5          # prints 3 and 2
;;   wasmc run --invoke divmod examples/add.wat 1 0           # traps, exit status 134
(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param f64 f64) (result f64)
    (f64.div (local.get 0) (local.get 1)))
  (func (export "divmod") (param i64 i64) (result i64 i64)
    (i64.div_s (local.get 0) (local.get 1))
    (i64.rem_s (local.get 0) (local.get 1))))
