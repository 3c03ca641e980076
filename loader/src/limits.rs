//! Resource limits and fuel: what a host uses to keep a guest from taking more than its
//! share.
//!
//! - [`ResourceLimiter`], installed per store with [`Store::limiter`] and living in the
//!   store's host data, is asked before any memory or table grows (from Wasm's
//!   `memory.grow`/`table.grow`, from the host's [`crate::Memory::grow`] and
//!   [`crate::Table::grow`], and for initial sizes when an instance, memory or table is
//!   created) and bounds how many instances, memories and tables the store may hold.
//!   [`StoreLimits`] (built by [`StoreLimitsBuilder`]) is the ready-made one.
//! - [`InstanceBudget`] caps the instances of many stores together (one host, many guests).
//! - Fuel ([`Store::set_fuel`], [`Store::get_fuel`]) bounds how much code a guest compiled
//!   with `CompileOptions::consume_fuel(true)` may run; the counting is in
//!   `compiler/src/translate/fuel.rs`.
//!
//! What a refusal looks like, everywhere:
//!
//! | where | limiter says no (`Ok(false)`) | limiter fails (`Err(e)`) |
//! |---|---|---|
//! | Wasm `memory.grow` / `table.grow` | returns -1, as the spec allows | the call traps with `e` |
//! | host `Memory::grow` / `Table::grow` | an `Instantiate`-kind error naming the limit | `e` |
//! | instantiation, `Memory::new`, `Table::new` | an `Instantiate`-kind error naming the limit and the sizes | the same, with `e`'s text |
//!
//! [`StoreLimits`] answers `Err` instead of `Ok(false)` when built with
//! [`StoreLimitsBuilder::trap_on_grow_failure`], so Wasm that outgrows its limit traps
//! (with a [`crate::Trap`] saying which limit) instead of seeing -1.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmc_abi::metadata::{WASM_PAGE_SIZE, flags};
use wasmc_abi::{ModuleMetadata, TrapCode};

use crate::artifact::Artifact;
use crate::error::{Error, Trap};
use crate::store::Store;
use crate::vmctx::VMStoreContext;

/// Default of [`ResourceLimiter::instances`].
pub const DEFAULT_INSTANCE_LIMIT: usize = 10_000;
/// Default of [`ResourceLimiter::memories`].
pub const DEFAULT_MEMORY_LIMIT: usize = 10_000;
/// Default of [`ResourceLimiter::tables`].
pub const DEFAULT_TABLE_LIMIT: usize = 10_000;

/// Decides, for one store, whether memories and tables may grow and how many instances,
/// memories and tables the store may hold. Install one with [`Store::limiter`].
///
/// The growth methods are called before anything changes; `current` and `desired` are in
/// bytes for memories and in elements for tables, and `maximum` is the declared maximum (in
/// the same unit) if there is one. Growth beyond `maximum` fails afterwards whatever the
/// limiter says. They run inside a Wasm call (from the `memory.grow` builtin), so they must
/// not call back into the store; a panic in them is caught and resumed once the Wasm frames
/// are gone, like a host function's.
pub trait ResourceLimiter {
    /// A memory wants to grow from `current` to `desired` bytes. `Ok(true)` allows it,
    /// `Ok(false)` refuses it (Wasm sees -1), `Err` refuses it and makes the Wasm call trap
    /// with that error.
    ///
    /// # Errors
    ///
    /// Whatever the limiter wants the growing code to fail with.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool, Error>;

    /// A table wants to grow from `current` to `desired` elements; as
    /// [`ResourceLimiter::memory_growing`].
    ///
    /// # Errors
    ///
    /// Whatever the limiter wants the growing code to fail with.
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool, Error>;

    /// How many instances the store may hold.
    fn instances(&self) -> usize {
        DEFAULT_INSTANCE_LIMIT
    }

    /// How many memories (defined by instances or created by the host; not imports) the
    /// store may hold.
    fn memories(&self) -> usize {
        DEFAULT_MEMORY_LIMIT
    }

    /// How many tables the store may hold (counted as memories).
    fn tables(&self) -> usize {
        DEFAULT_TABLE_LIMIT
    }

    /// The byte limit on one memory, if the limiter has a fixed one: only used to name it in
    /// error messages.
    fn memory_limit(&self) -> Option<usize> {
        None
    }

    /// The element limit on one table, if fixed: only used in error messages.
    fn table_limit(&self) -> Option<usize> {
        None
    }
}

/// The ready-made [`ResourceLimiter`]: fixed caps on each memory's bytes, each table's
/// elements, and the store's numbers of instances, memories and tables. Build it with
/// [`StoreLimitsBuilder`]; keep it in the store's data and install it with
/// [`Store::limiter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    instances: usize,
    memories: usize,
    tables: usize,
    trap_on_grow_failure: bool,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimitsBuilder::new().build()
    }
}

/// Builds a [`StoreLimits`]. Every limit is off (or at its default count) until set.
#[derive(Debug, Clone, Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    /// No byte or element limits; counts at their defaults ([`DEFAULT_INSTANCE_LIMIT`],
    /// [`DEFAULT_MEMORY_LIMIT`], [`DEFAULT_TABLE_LIMIT`]); growth failures return -1.
    pub fn new() -> StoreLimitsBuilder {
        StoreLimitsBuilder(StoreLimits {
            memory_size: None,
            table_elements: None,
            instances: DEFAULT_INSTANCE_LIMIT,
            memories: DEFAULT_MEMORY_LIMIT,
            tables: DEFAULT_TABLE_LIMIT,
            trap_on_grow_failure: false,
        })
    }

    /// Caps every memory of the store at `bytes` (a memory may reach exactly `bytes`).
    pub fn memory_size(mut self, bytes: usize) -> StoreLimitsBuilder {
        self.0.memory_size = Some(bytes);
        self
    }

    /// Caps every table of the store at `elements`.
    pub fn table_elements(mut self, elements: usize) -> StoreLimitsBuilder {
        self.0.table_elements = Some(elements);
        self
    }

    /// Caps how many instances the store may hold.
    pub fn instances(mut self, n: usize) -> StoreLimitsBuilder {
        self.0.instances = n;
        self
    }

    /// Caps how many memories the store may hold.
    pub fn memories(mut self, n: usize) -> StoreLimitsBuilder {
        self.0.memories = n;
        self
    }

    /// Caps how many tables the store may hold.
    pub fn tables(mut self, n: usize) -> StoreLimitsBuilder {
        self.0.tables = n;
        self
    }

    /// With `true`, growth past a limit traps (in Wasm) or fails with that trap (from the
    /// host) instead of failing quietly: for hosts that would rather stop a guest than let
    /// it handle `memory.grow` returning -1.
    pub fn trap_on_grow_failure(mut self, trap: bool) -> StoreLimitsBuilder {
        self.0.trap_on_grow_failure = trap;
        self
    }

    /// The limits.
    pub fn build(self) -> StoreLimits {
        self.0
    }
}

impl StoreLimits {
    fn refuse(&self, what: &str, unit: &str, desired: usize, limit: usize) -> Result<bool, Error> {
        if self.trap_on_grow_failure {
            Err(Error::from(Trap::with_message(
                TrapCode::HostTrap,
                format!(
                    "{what} growing to {desired} {unit} exceeds the store's limit of {limit} \
                     {unit} (trap_on_grow_failure is set)"
                ),
            )))
        } else {
            Ok(false)
        }
    }
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, Error> {
        match self.memory_size {
            Some(limit) if desired > limit => self.refuse("memory", "bytes", desired, limit),
            _ => Ok(true),
        }
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, Error> {
        match self.table_elements {
            Some(limit) if desired > limit => self.refuse("table", "elements", desired, limit),
            _ => Ok(true),
        }
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn memories(&self) -> usize {
        self.memories
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memory_limit(&self) -> Option<usize> {
        self.memory_size
    }

    fn table_limit(&self) -> Option<usize> {
        self.table_elements
    }
}

/// What grows: a memory (sizes in bytes) or a table (in elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    Memory,
    Table,
}

/// One question to a limiter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GrowRequest {
    pub(crate) resource: Resource,
    pub(crate) current: usize,
    pub(crate) desired: usize,
    pub(crate) maximum: Option<usize>,
}

/// A limiter's answer to a [`GrowRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allow,
    /// Refused; the limiter's fixed limit, if it reports one.
    Refuse(Option<usize>),
}

impl GrowRequest {
    /// A memory growing from `current` to `desired` pages (of 64 KiB) with at most
    /// `maximum` pages; `None` if `desired` is not addressable on this host (the growth then
    /// fails without asking anyone).
    pub(crate) fn memory(current: u64, desired: u64, maximum: Option<u64>) -> Option<GrowRequest> {
        let bytes = |pages: u64| {
            pages
                .checked_mul(WASM_PAGE_SIZE)
                .and_then(|b| usize::try_from(b).ok())
        };
        Some(GrowRequest {
            resource: Resource::Memory,
            current: bytes(current)?,
            desired: bytes(desired)?,
            maximum: maximum.map(|m| bytes(m).unwrap_or(usize::MAX)),
        })
    }

    /// A table growing from `current` to `desired` elements.
    pub(crate) fn table(current: u64, desired: u64, maximum: Option<u64>) -> Option<GrowRequest> {
        Some(GrowRequest {
            resource: Resource::Table,
            current: usize::try_from(current).ok()?,
            desired: usize::try_from(desired).ok()?,
            maximum: maximum.map(|m| usize::try_from(m).unwrap_or(usize::MAX)),
        })
    }

    /// Asks `limiter`.
    pub(crate) fn ask(&self, limiter: &mut dyn ResourceLimiter) -> Result<Verdict, Error> {
        let (ok, limit) = match self.resource {
            Resource::Memory => (
                limiter.memory_growing(self.current, self.desired, self.maximum)?,
                limiter.memory_limit(),
            ),
            Resource::Table => (
                limiter.table_growing(self.current, self.desired, self.maximum)?,
                limiter.table_limit(),
            ),
        };
        Ok(if ok {
            Verdict::Allow
        } else {
            Verdict::Refuse(limit)
        })
    }

    /// The error the host sees when the limiter refused this growth.
    pub(crate) fn refused(&self, limit: Option<usize>) -> Error {
        let (what, unit) = match self.resource {
            Resource::Memory => ("memory", "bytes"),
            Resource::Table => ("table", "elements"),
        };
        let limit = limit.map_or_else(String::new, |l| format!(" (its limit is {l} {unit})"));
        Error::instantiate(format!(
            "resource limit exceeded: the store's resource limiter refused to let a {what} \
             grow from {} to {} {unit}{limit}",
            self.current, self.desired
        ))
    }
}

/// The limiter closure a store keeps (see [`Store::limiter`]).
pub(crate) type LimiterFn<T> =
    Box<dyn (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static>;

/// The type-erased way from a running store to its limiter, for the builtins (which know
/// only `StoreOpaque` and the raw `Store<T>` pointer in the store context).
pub(crate) type LimiterHook = unsafe fn(*mut (), &GrowRequest) -> Result<Verdict, Error>;

/// [`LimiterHook`] of a `Store<T>`.
///
/// # Safety
///
/// `store` must point at a live `Store<T>` of this `T` whose `limiter` and `data` fields no
/// reference is alive to (the call path: the builtin holds only the store's `opaque`).
unsafe fn limiter_hook<T>(store: *mut (), request: &GrowRequest) -> Result<Verdict, Error> {
    let store = store.cast::<Store<T>>();
    // SAFETY: per the contract; the two fields are disjoint from `opaque`, which the calling
    // builtin may hold a reference to, and from each other.
    let (limiter, data) = unsafe { (&mut (*store).limiter, &mut (*store).data) };
    match limiter {
        Some(f) => request.ask(f(data)),
        None => Ok(Verdict::Allow),
    }
}

impl<T> Store<T> {
    /// Installs a resource limiter: `f` returns it from the store's data, where it lives
    /// (so a host function can inspect or change it through [`crate::Caller::data_mut`]).
    /// It is asked before every memory or table of this store grows and when instances,
    /// memories and tables are created; see [`ResourceLimiter`]. Existing instances are not
    /// re-checked.
    ///
    /// ```
    /// use wasmc_loader::{Store, StoreLimits, StoreLimitsBuilder};
    ///
    /// struct Host { limits: StoreLimits }
    /// let mut store = Store::new(Host {
    ///     limits: StoreLimitsBuilder::new().memory_size(1 << 20).instances(2).build(),
    /// });
    /// store.limiter(|host| &mut host.limits);
    /// ```
    pub fn limiter(
        &mut self,
        f: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static,
    ) -> &mut Self {
        self.limiter = Some(Box::new(f));
        self.opaque.limiter_hook = Some(limiter_hook::<T>);
        self
    }

    /// Asks the installed limiter (if any) about `request`.
    pub(crate) fn ask_limiter(&mut self, request: &GrowRequest) -> Result<Verdict, Error> {
        match &mut self.limiter {
            Some(f) => request.ask(f(&mut self.data)),
            None => Ok(Verdict::Allow),
        }
    }

    /// The store's counts limits: `(instances, memories, tables)`.
    fn count_limits(&mut self) -> (usize, usize, usize) {
        match &mut self.limiter {
            Some(f) => {
                let l = f(&mut self.data);
                (l.instances(), l.memories(), l.tables())
            }
            None => (usize::MAX, usize::MAX, usize::MAX),
        }
    }

    /// Checks that the store may hold `memories` more memories and `tables` more tables.
    pub(crate) fn check_counts(&mut self, memories: usize, tables: usize) -> Result<(), Error> {
        let (_, max_memories, max_tables) = self.count_limits();
        for (what, have, adding, max) in [
            (
                "memories",
                self.opaque.memories.len(),
                memories,
                max_memories,
            ),
            ("tables", self.opaque.tables.len(), tables, max_tables),
        ] {
            if adding > 0 && have.saturating_add(adding) > max {
                return Err(Error::instantiate(format!(
                    "resource limit exceeded: the store holds {have} {what} and may hold at \
                     most {max}; {adding} more were requested"
                )));
            }
        }
        Ok(())
    }

    /// Checks an initial size with the limiter: a memory of `min` pages or a table of `min`
    /// elements (`request` built with current size 0).
    pub(crate) fn check_initial(&mut self, request: Option<GrowRequest>) -> Result<(), Error> {
        let Some(request) = request else {
            // Not addressable: creating it fails later with its own message.
            return Ok(());
        };
        let (what, unit) = match request.resource {
            Resource::Memory => ("memory", "bytes"),
            Resource::Table => ("table", "elements"),
        };
        let limit = |l: Option<usize>| l.map_or_else(String::new, |l| format!(" of {l} {unit}"));
        match self.ask_limiter(&request) {
            Ok(Verdict::Allow) => Ok(()),
            Ok(Verdict::Refuse(l)) => Err(Error::instantiate(format!(
                "resource limit exceeded: a {what} of initial size {} {unit} is over the \
                 store's limit{}",
                request.desired,
                limit(l)
            ))),
            Err(e) => Err(Error::instantiate(format!(
                "resource limit exceeded: a {what} of initial size {} {unit} was refused by \
                 the store's resource limiter: {e}",
                request.desired
            ))),
        }
    }

    /// The limit checks of instantiating `artifact` (before anything is allocated): fuel,
    /// counts, initial sizes; then its charge to the instance budget, which
    /// [`Store::uncharge_instance`] returns if a later step fails before the instance is in
    /// the store.
    pub(crate) fn check_instantiation(&mut self, artifact: &Artifact) -> Result<(), Error> {
        let meta: &ModuleMetadata = &artifact.inner.meta;
        if self.opaque.fuel_enabled && !artifact.consumes_fuel() {
            return Err(Error::instantiate(format!(
                "module {} was compiled without fuel metering (consume_fuel), but this store \
                 limits fuel: its code could run without bound",
                module_name(artifact)
            )));
        }
        let (max_instances, _, _) = self.count_limits();
        let have = self.opaque.instances.len();
        if have >= max_instances {
            return Err(Error::instantiate(format!(
                "resource limit exceeded: the store holds {have} instances and may hold at \
                 most {max_instances}"
            )));
        }
        let imported = |kind| {
            meta.imports
                .iter()
                .filter(|i| i.kind.kind() == kind)
                .count()
        };
        let defined_memories = meta
            .memories
            .get(imported(wasmc_abi::metadata::ExternKind::Memory)..)
            .unwrap_or(&[]);
        let defined_tables = meta
            .tables
            .get(imported(wasmc_abi::metadata::ExternKind::Table)..)
            .unwrap_or(&[]);
        self.check_counts(defined_memories.len(), defined_tables.len())?;
        if self.limiter.is_some() {
            for m in defined_memories {
                self.check_initial(GrowRequest::memory(0, m.min, m.max))?;
            }
            for t in defined_tables {
                self.check_initial(GrowRequest::table(0, t.min, t.max))?;
            }
        }
        if let Some(charge) = &mut self.opaque.budget {
            charge.acquire()?;
        }
        Ok(())
    }

    /// Returns the budget charge of an instantiation that failed before the instance was
    /// added to the store.
    pub(crate) fn uncharge_instance(&mut self) {
        if let Some(charge) = &mut self.opaque.budget {
            charge.release_one();
        }
    }

    /// Makes the store's instances count against `budget`, shared with other stores: an
    /// instantiation that would take the budget past its maximum fails with an error naming
    /// it, and the store's instances go back to the budget when it is dropped. A store
    /// has at most one budget; setting another moves its instances there.
    ///
    /// # Errors
    ///
    /// An `Instantiate`-kind error if the budget has no room for the instances the store
    /// already holds (the store then keeps its previous budget, if any).
    pub fn set_instance_budget(&mut self, budget: &InstanceBudget) -> Result<&mut Self, Error> {
        let held = self.opaque.instances.len();
        if !budget.try_acquire(held) {
            return Err(budget.exhausted(held));
        }
        // Dropping the previous charge returns its instances to the previous budget.
        self.opaque.budget = Some(BudgetCharge {
            budget: budget.clone(),
            held,
        });
        Ok(self)
    }

    /// Sets the fuel of this store to `fuel`: Wasm compiled with
    /// `CompileOptions::consume_fuel(true)` traps with [`TrapCode::OutOfFuel`] at the first
    /// function entry or loop header after it has spent it (see
    /// `compiler/src/translate/fuel.rs` for what counts). Callable any time, also from a
    /// host function (through [`crate::Caller`], which dereferences to the store), to
    /// refuel. Values above `i64::MAX` count as `i64::MAX`.
    ///
    /// # Errors
    ///
    /// A usage error if an instance of this store runs code compiled without fuel metering
    /// (nothing would stop it). Once fuel is set, instantiating such code in the store fails.
    pub fn set_fuel(&mut self, fuel: u64) -> Result<(), Error> {
        if let Some(a) = self.opaque.artifacts.iter().find(|a| !a.consumes_fuel()) {
            return Err(Error::usage(format!(
                "cannot set fuel: module {} was compiled without fuel metering \
                 (CompileOptions::consume_fuel(true)), so fuel could not stop it",
                module_name(a)
            )));
        }
        self.opaque.fuel_enabled = true;
        let consumed = -i64::try_from(fuel).unwrap_or(i64::MAX);
        write_fuel_consumed(self.opaque.ctx_ptr(), consumed);
        Ok(())
    }

    /// The fuel left: what [`Store::set_fuel`] gave minus what Wasm has spent since (0 once
    /// it ran out; straight-line code may overrun by its own length before the next check,
    /// which also shows as 0). Exact after a call returns or traps with `OutOfFuel`; inside
    /// a host function it counts everything up to that call.
    ///
    /// # Errors
    ///
    /// A usage error if fuel is not in use in this store: [`Store::set_fuel`] was never
    /// called and no instance runs code compiled with fuel metering.
    pub fn get_fuel(&self) -> Result<u64, Error> {
        if !self.opaque.fuel_enabled && !self.opaque.artifacts.iter().any(|a| a.consumes_fuel()) {
            return Err(Error::usage(
                "fuel is not in use in this store: call Store::set_fuel, and compile with \
                 CompileOptions::consume_fuel(true)",
            ));
        }
        let consumed = read_fuel_consumed(self.opaque.ctx_ptr());
        Ok(u64::try_from(consumed.saturating_neg()).unwrap_or(0))
    }
}

fn module_name(a: &Artifact) -> String {
    a.metadata()
        .name
        .as_deref()
        .map_or_else(|| "(unnamed)".to_string(), |n| format!("`{n}`"))
}

fn read_fuel_consumed(ctx: *mut VMStoreContext) -> i64 {
    // SAFETY: `ctx` is the live store context of a store the caller borrows; only that
    // store's thread writes `fuel_consumed` (compiled code and this file), and no reference
    // to the context is held. A field read: other threads write `interrupt` only.
    unsafe { (&raw const (*ctx).fuel_consumed).read() }
}

fn write_fuel_consumed(ctx: *mut VMStoreContext, value: i64) {
    // SAFETY: as in `read_fuel_consumed`; the caller borrows the store mutably (or runs as
    // one of its host functions, between Wasm frames that reload the counter afterwards).
    unsafe { (&raw mut (*ctx).fuel_consumed).write(value) }
}

impl Artifact {
    /// Whether the code counts fuel (`CompileOptions::consume_fuel`).
    pub(crate) fn consumes_fuel(&self) -> bool {
        self.inner.header.flags & flags::FUEL != 0
    }
}

/// A cap on the instances of many stores together, for a host running many guests: attach
/// it to each store with [`Store::set_instance_budget`]. Cheap to clone (clones share the
/// count) and usable from any thread.
///
/// ```
/// use wasmc_loader::{InstanceBudget, Store};
///
/// let budget = InstanceBudget::new(100);
/// let mut store = Store::new(());
/// store.set_instance_budget(&budget).unwrap();
/// assert_eq!(budget.in_use(), 0);
/// ```
#[derive(Debug, Clone)]
pub struct InstanceBudget {
    inner: Arc<BudgetInner>,
}

#[derive(Debug)]
struct BudgetInner {
    max: usize,
    used: AtomicUsize,
}

impl InstanceBudget {
    /// A budget of at most `max` instances.
    pub fn new(max: usize) -> InstanceBudget {
        InstanceBudget {
            inner: Arc::new(BudgetInner {
                max,
                used: AtomicUsize::new(0),
            }),
        }
    }

    /// The maximum.
    pub fn max(&self) -> usize {
        self.inner.max
    }

    /// How many instances of attached stores exist now.
    pub fn in_use(&self) -> usize {
        self.inner.used.load(Ordering::Acquire)
    }

    /// How many more instances may be created.
    pub fn available(&self) -> usize {
        self.max().saturating_sub(self.in_use())
    }

    /// Takes `n` instances if they fit.
    fn try_acquire(&self, n: usize) -> bool {
        self.inner
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|u| *u <= self.inner.max)
            })
            .is_ok()
    }

    fn release(&self, n: usize) {
        self.inner.used.fetch_sub(n, Ordering::AcqRel);
    }

    fn exhausted(&self, n: usize) -> Error {
        Error::instantiate(format!(
            "resource limit exceeded: the host's instance budget of {} is exhausted ({} in use, \
             {n} more requested)",
            self.max(),
            self.in_use()
        ))
    }
}

/// A store's share of an [`InstanceBudget`]; returns it when dropped (with the store).
#[derive(Debug)]
pub(crate) struct BudgetCharge {
    budget: InstanceBudget,
    held: usize,
}

impl BudgetCharge {
    fn acquire(&mut self) -> Result<(), Error> {
        if !self.budget.try_acquire(1) {
            return Err(self.budget.exhausted(1));
        }
        self.held += 1;
        Ok(())
    }

    fn release_one(&mut self) {
        if self.held > 0 {
            self.held -= 1;
            self.budget.release(1);
        }
    }
}

impl Drop for BudgetCharge {
    fn drop(&mut self) {
        self.budget.release(self.held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_limits_refuse_past_the_limit_and_trap_when_asked() {
        let mut l = StoreLimitsBuilder::new()
            .memory_size(2 * 65536)
            .table_elements(10)
            .build();
        assert!(l.memory_growing(0, 2 * 65536, None).unwrap());
        assert!(!l.memory_growing(65536, 3 * 65536, None).unwrap());
        assert!(l.table_growing(0, 10, None).unwrap());
        assert!(!l.table_growing(10, 11, Some(100)).unwrap());
        let mut t = StoreLimitsBuilder::new()
            .memory_size(65536)
            .trap_on_grow_failure(true)
            .build();
        let e = t.memory_growing(0, 2 * 65536, None).unwrap_err();
        assert!(e.to_string().contains("limit of 65536 bytes"), "{e}");
        assert_eq!(e.trap_code(), Some(TrapCode::HostTrap));
    }

    #[test]
    fn budgets_count_and_refuse() {
        let b = InstanceBudget::new(2);
        assert!(b.try_acquire(2));
        assert!(!b.try_acquire(1));
        assert_eq!(b.available(), 0);
        b.release(1);
        assert!(b.try_acquire(1));
        {
            let mut c = BudgetCharge {
                budget: b.clone(),
                held: 0,
            };
            b.release(2);
            c.acquire().unwrap();
            c.acquire().unwrap();
            assert!(c.acquire().is_err());
            assert_eq!(b.in_use(), 2);
        }
        assert_eq!(b.in_use(), 0);
    }

    #[test]
    fn memory_requests_are_in_bytes_and_never_overflow() {
        let r = GrowRequest::memory(1, 3, Some(10)).unwrap();
        assert_eq!(
            (r.current, r.desired, r.maximum),
            (65536, 3 * 65536, Some(10 * 65536))
        );
        assert!(GrowRequest::memory(0, u64::MAX, None).is_none());
        let e = r.refused(Some(65536));
        assert!(e.to_string().contains("from 65536 to 196608 bytes"), "{e}");
        assert!(e.to_string().contains("limit is 65536 bytes"), "{e}");
    }
}
