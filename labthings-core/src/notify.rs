//! `notify_<name>()`: a Thing's own code telling observers that a getter's reading changed.
//!
//! A getter has no field to hold the observer the server binds it to (a data property keeps
//! it in its `Property<T>`), so attaching a Thing records, under the Thing's address, the name
//! it is served as and a weak handle on its observer. The generated `notify_<name>()` finds
//! that entry, calls the getter on the caller's thread, and hands the reading to the observer,
//! whose hub publishes it only if it differs from the last one (so a notify and the server's
//! poller reading the same value publish it once).
//!
//! The observer is held weakly: a stopped server's hub is dropped, and a Thing that outlives
//! it (or was never served) notifies nobody.

use std::sync::{Arc, Mutex, Weak};

use crate::property::PropertyObserver;
use crate::thing::Thing;

struct Attached {
    /// The Thing's address: stable while it is served (it lives in an `Arc`).
    address: usize,
    name: Arc<str>,
    observer: Weak<dyn PropertyObserver>,
}

/// Every attached Thing; entries whose observer has gone are dropped on the next attach.
static ATTACHED: Mutex<Vec<Attached>> = Mutex::new(Vec::new());

fn attached() -> std::sync::MutexGuard<'static, Vec<Attached>> {
    // Entries are pushed or removed whole: a panic can't leave the list torn.
    ATTACHED.lock().unwrap_or_else(|p| p.into_inner())
}

fn address<T: ?Sized>(thing: &T) -> usize {
    std::ptr::from_ref(thing).cast::<()>() as usize
}

/// Record that `thing` is served as `name` and observed by `observer` (generated `attach`).
pub fn attach_notifier<T: ?Sized>(thing: &T, name: &str, observer: &Arc<dyn PropertyObserver>) {
    let address = address(thing);
    let mut attached = attached();
    attached.retain(|a| a.address != address && a.observer.strong_count() > 0);
    attached.push(Attached {
        address,
        name: Arc::from(name),
        observer: Arc::downgrade(observer),
    });
}

/// Read getter `property` of `thing` now and hand the reading to its observers (generated
/// `notify_<name>()`). Does nothing if the Thing isn't served; a getter that fails is
/// not published (the poller, if running, logs its failures).
pub fn notify_property<T: Thing>(thing: &T, property: &str) {
    let address = address(thing);
    let target = attached()
        .iter()
        .find(|a| a.address == address)
        .and_then(|a| Some((a.name.clone(), a.observer.upgrade()?)));
    let Some((name, observer)) = target else {
        return;
    };
    if let Ok(value) = thing.read_property(property) {
        observer.property_read(&name, property, &value);
    }
}
