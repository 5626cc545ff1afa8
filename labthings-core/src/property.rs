//! Data properties: values a Thing holds that clients read and write.
//!
//! A [`Property<T>`] is a value behind a lock with a default. When the Thing is served, the
//! server binds each property to its name, its constraints and an observer, so that every write
//! — from HTTP or from the Thing's own code — is checked against the declared constraints and
//! announced (to WebSocket observers, and for a [`Setting<T>`] to the settings file).

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::Serialize;
use serde_json::Value;

use crate::validate::{ValidationErrors, validate};

/// Told of every change to a bound property, with its new value as JSON, and of every event
/// a bound [`Event`](crate::Event) emits. Both are called on the writer's (or emitter's)
/// thread, so they must return quickly and never wait for a client.
pub trait PropertyObserver: Send + Sync {
    /// The property `property` of the Thing served as `thing` now holds `value`.
    fn property_changed(&self, thing: &str, property: &str, value: &Value);

    /// An event was emitted (ignored unless the observer cares).
    fn event_emitted(&self, thing: &str, event: &str, data: &Value) {
        let _ = (thing, event, data);
    }

    /// A getter was read because its Thing said the reading may have changed (a generated
    /// `notify_<name>()`). Unlike a write, the value may be the one heard last time: the
    /// server's hub publishes it only if it changed (ignored unless the observer cares).
    fn property_read(&self, thing: &str, property: &str, value: &Value) {
        let _ = (thing, property, value);
    }
}

/// What binding a property to a served Thing gives it.
#[doc(hidden)]
pub struct PropertyBinding {
    pub thing: Arc<str>,
    pub name: &'static str,
    /// The property's schema, when it declares constraints to enforce on writes.
    pub constraints: Option<&'static Value>,
    pub observer: Arc<dyn PropertyObserver>,
}

/// A value a Thing exposes as a readable (and, unless `read_only`, writable) property.
///
/// ```
/// use labthings_core::Property;
/// let count = Property::new(0_i64);
/// count.update(|c| *c += 1).unwrap();
/// assert_eq!(count.get(), 1);
/// count.reset();
/// assert_eq!(count.get(), 0);
/// ```
pub struct Property<T> {
    value: RwLock<T>,
    default: T,
    binding: OnceLock<PropertyBinding>,
    /// Held by a writer from its write until its announcement, so observers see changes in
    /// the order they happened; readers never wait for it.
    writing: Mutex<()>,
}

impl<T> Property<T>
where
    T: Clone + Serialize + Send + Sync,
{
    /// A property holding `default`, which [`reset`](Self::reset) restores.
    pub fn new(default: T) -> Self {
        Self {
            value: RwLock::new(default.clone()),
            default,
            binding: OnceLock::new(),
            writing: Mutex::new(()),
        }
    }

    /// A copy of the current value.
    pub fn get(&self) -> T {
        self.read().clone()
    }

    /// Borrow the current value (holding a read lock while the guard lives).
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        // The lock only guards a value that is replaced whole: poisoning can't leave it torn.
        self.value.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_guard(&self) -> RwLockWriteGuard<'_, T> {
        self.value.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The value [`reset`](Self::reset) restores.
    pub fn default_value(&self) -> &T {
        &self.default
    }

    /// Replace the value. Fails, changing nothing, if the value breaks a declared constraint.
    pub fn set(&self, value: T) -> Result<(), ValidationErrors> {
        self.check(&value)?;
        self.store(value);
        Ok(())
    }

    /// Change the value in place, atomically with respect to other writers. Fails, changing
    /// nothing, if the result breaks a declared constraint.
    pub fn update(&self, change: impl FnOnce(&mut T)) -> Result<(), ValidationErrors> {
        let _order = self.writing_order();
        let mut guard = self.write_guard();
        let mut next = guard.clone();
        change(&mut next);
        self.check(&next)?;
        *guard = next.clone();
        drop(guard);
        self.announce(&next);
        Ok(())
    }

    /// Restore the default value.
    pub fn reset(&self) {
        self.store(self.default.clone());
    }

    /// Store a value that has already been validated against the property's schema.
    #[doc(hidden)]
    pub fn set_validated(&self, value: T) {
        self.store(value);
    }

    fn store(&self, value: T) {
        let _order = self.writing_order();
        *self.write_guard() = value.clone();
        self.announce(&value);
    }

    fn writing_order(&self) -> MutexGuard<'_, ()> {
        self.writing.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bind to a served Thing. A property is bound at most once; later calls are ignored.
    #[doc(hidden)]
    pub fn bind(&self, binding: PropertyBinding) {
        let _ = self.binding.set(binding);
    }

    fn check(&self, value: &T) -> Result<(), ValidationErrors> {
        let Some(schema) = self.binding.get().and_then(|b| b.constraints) else {
            return Ok(());
        };
        let json = serde_json::to_value(value).map_err(|e| {
            ValidationErrors::single("value_error", format!("Value error, {e}"), Value::Null)
        })?;
        validate(schema, json).map(drop)
    }

    fn announce(&self, value: &T) {
        if let Some(binding) = self.binding.get()
            && let Ok(json) = serde_json::to_value(value)
        {
            binding
                .observer
                .property_changed(&binding.thing, binding.name, &json);
        }
    }
}

impl<T: Default + Clone + Serialize + Send + Sync> Default for Property<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Property<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value.try_read() {
            Ok(value) => f.debug_tuple("Property").field(&*value).finish(),
            Err(_) => f.write_str("Property(<locked>)"),
        }
    }
}

/// A property whose value the server saves to the settings folder whenever it changes and
/// restores at start-up. It behaves exactly like a [`Property<T>`] otherwise.
pub struct Setting<T>(Property<T>);

impl<T: Clone + Serialize + Send + Sync> Setting<T> {
    /// A setting holding `default` until a saved value is loaded or it is written.
    pub fn new(default: T) -> Self {
        Self(Property::new(default))
    }
}

impl<T> Deref for Setting<T> {
    type Target = Property<T>;
    fn deref(&self) -> &Property<T> {
        &self.0
    }
}

impl<T: Default + Clone + Serialize + Send + Sync> Default for Setting<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Setting<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.value.try_read() {
            Ok(value) => f.debug_tuple("Setting").field(&*value).finish(),
            Err(_) => f.write_str("Setting(<locked>)"),
        }
    }
}
