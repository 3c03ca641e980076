//! Optional `tracing` spans around export calls and host calls (the `tracing` feature).
//!
//! With the feature on, every call from the host into Wasm ([`crate::Func::call`],
//! [`crate::TypedFunc::call`]) is a `wasm_call` span and every call from Wasm into a host
//! function a `host_call` span, each a child of whatever span is current on the calling thread
//! (so guest work nests under the host's request spans, and host calls under the guest's
//! export call). Fields: `module`, `function`, and, when the call ends, `duration_us` and
//! `trap` (the error's text, if it failed). With the feature off, [`CallSpan`] is a
//! zero-sized type whose methods are empty and inlined away.

use crate::error::Error;
use crate::store::Store;

#[cfg(feature = "tracing")]
pub(crate) use on::CallSpan;

#[cfg(not(feature = "tracing"))]
pub(crate) use off::CallSpan;

#[cfg(not(feature = "tracing"))]
mod off {
    use super::{Error, Store};

    /// Nothing: the `tracing` feature is off.
    pub(crate) struct CallSpan;

    impl CallSpan {
        #[inline(always)]
        pub(crate) fn export<T>(_store: &Store<T>, _func: usize) -> CallSpan {
            CallSpan
        }

        #[inline(always)]
        pub(crate) fn host(_name: Option<&str>) -> CallSpan {
            CallSpan
        }

        #[inline(always)]
        pub(crate) fn run<R>(self, f: impl FnOnce() -> Result<R, Error>) -> Result<R, Error> {
            f()
        }
    }
}

#[cfg(feature = "tracing")]
mod on {
    use std::time::Instant;

    use wasmc_abi::metadata::ExternKind;

    use super::{Error, Store};
    use crate::store::FuncKind;

    /// A span and when it started.
    pub(crate) struct CallSpan {
        span: tracing::Span,
    }

    impl CallSpan {
        /// The span of a host-to-Wasm call of store function `func`.
        pub(crate) fn export<T>(store: &Store<T>, func: usize) -> CallSpan {
            let (module, function) = describe(store, func);
            CallSpan {
                span: tracing::info_span!(
                    "wasm_call",
                    module = %module,
                    function = %function,
                    duration_us = tracing::field::Empty,
                    trap = tracing::field::Empty,
                ),
            }
        }

        /// The span of a Wasm-to-host call of the host function defined as `name`
        /// (`module::name`, when it came from a linker).
        pub(crate) fn host(name: Option<&str>) -> CallSpan {
            let (module, function) = name
                .and_then(|n| n.split_once("::"))
                .unwrap_or(("host", name.unwrap_or("?")));
            CallSpan {
                span: tracing::info_span!(
                    "host_call",
                    module = %module,
                    function = %function,
                    duration_us = tracing::field::Empty,
                    trap = tracing::field::Empty,
                ),
            }
        }

        /// Runs `f` inside the span and records its duration and failure.
        pub(crate) fn run<R>(self, f: impl FnOnce() -> Result<R, Error>) -> Result<R, Error> {
            let start = Instant::now();
            let r = self.span.in_scope(f);
            let us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.span.record("duration_us", us);
            if let Err(e) = &r {
                self.span.record("trap", tracing::field::display(e));
            }
            r
        }
    }

    /// `(module name, function name)` of store function `func`: the export name if it has
    /// one, else its name-section name, else its index.
    fn describe<T>(store: &Store<T>, func: usize) -> (String, String) {
        let FuncKind::Wasm(inst) = store.opaque.funcs[func].kind else {
            return ("host".into(), "?".into());
        };
        let data = &store.opaque.instances[inst];
        let meta = &data.artifact.inner.meta;
        let module = meta.name.clone().unwrap_or_else(|| "?".into());
        let Some(index) = data.funcs.iter().position(|f| *f == Some(func)) else {
            return (module, "?".into());
        };
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        let name = meta
            .exports
            .iter()
            .find(|e| e.kind == ExternKind::Func && e.index == index)
            .map(|e| e.name.clone())
            .or_else(|| meta.func_name(index).map(str::to_string))
            .unwrap_or_else(|| index.to_string());
        (module, name)
    }
}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    use crate::{Artifact, Caller, Error, Linker, Store};

    /// `(span name, parent span id, fields)`.
    type SpanRecord = (String, Option<u64>, Vec<(String, String)>);

    /// Records every span.
    #[derive(Default, Clone)]
    struct Recorder {
        spans: Arc<Mutex<Vec<SpanRecord>>>,
        stack: Arc<Mutex<Vec<u64>>>,
    }

    struct Fields<'a>(&'a mut Vec<(String, String)>);
    impl tracing::field::Visit for Fields<'_> {
        fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
            self.0.push((f.name().to_string(), format!("{v:?}")));
        }
    }

    impl Subscriber for Recorder {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, attrs: &Attributes<'_>) -> Id {
            let mut fields = Vec::new();
            attrs.record(&mut Fields(&mut fields));
            let parent = self.stack.lock().unwrap().last().copied();
            let mut spans = self.spans.lock().unwrap();
            spans.push((attrs.metadata().name().to_string(), parent, fields));
            Id::from_u64(spans.len() as u64)
        }
        fn record(&self, id: &Id, values: &Record<'_>) {
            let mut spans = self.spans.lock().unwrap();
            let i = usize::try_from(id.into_u64() - 1).unwrap();
            values.record(&mut Fields(&mut spans[i].2));
        }
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, _: &Event<'_>) {}
        fn enter(&self, id: &Id) {
            self.stack.lock().unwrap().push(id.into_u64());
        }
        fn exit(&self, _: &Id) {
            self.stack.lock().unwrap().pop();
        }
    }

    #[test]
    fn export_and_host_calls_are_nested_spans() {
        let wasm = wat::parse_str(
            r#"(module $plugin
                 (import "env" "cb" (func $cb (param i32) (result i32)))
                 (func (export "run") (param i32) (result i32) local.get 0 call $cb))"#,
        )
        .unwrap();
        let bytes = wasmc_compiler::compile(&wasm).unwrap();
        // SAFETY: compiled just above.
        let artifact = unsafe { Artifact::from_bytes(&bytes) }.unwrap();
        let mut linker = Linker::new();
        linker
            .func_wrap("env", "cb", |_: Caller<'_, ()>, x: i32| {
                if x < 0 {
                    Err(Error::host("negative"))
                } else {
                    Ok(x * 2)
                }
            })
            .unwrap();
        let rec = Recorder::default();
        tracing::subscriber::with_default(rec.clone(), || {
            let mut store = Store::new(());
            let i = linker.instantiate(&mut store, &artifact).unwrap();
            let run = i.get_typed_func::<i32, i32>(&store, "run").unwrap();
            assert_eq!(run.call(&mut store, 4).unwrap(), 8);
            assert!(run.call(&mut store, -1).is_err());
        });
        let spans = rec.spans.lock().unwrap();
        let field = |i: usize, k: &str| {
            spans[i]
                .2
                .iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(spans.len(), 4, "{spans:?}");
        assert_eq!(spans[0].0, "wasm_call");
        assert_eq!(field(0, "module").as_deref(), Some("plugin"));
        assert_eq!(field(0, "function").as_deref(), Some("run"));
        assert!(field(0, "duration_us").is_some());
        assert_eq!(spans[1].0, "host_call");
        assert_eq!(
            spans[1].1,
            Some(1),
            "the host call is a child of the export call"
        );
        assert_eq!(field(1, "module").as_deref(), Some("env"));
        assert_eq!(field(1, "function").as_deref(), Some("cb"));
        assert_eq!(field(2, "trap").as_deref(), Some("negative"));
        assert_eq!(field(3, "trap").as_deref(), Some("negative"));
    }
}
