//! Who observes which property: counted so the server polls a getter only while someone
//! listens to it.
//!
//! Anything that delivers a Thing's property notifications to a client — an SSE stream, a
//! WebSocket observation, and any later binding (MQTT) — holds an [`ObserverGuard`] from
//! [`ThingHub::observe`](super::hub::ThingHub::observe) for as long as it listens. The counts
//! live in a `watch` channel, so a poller sleeps until its property is observed and wakes when
//! the last observer goes, without polling the counts.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::watch;

/// Which properties are observed, and by how many.
#[derive(Debug, Default, Clone)]
pub struct Observed {
    /// Observers of every property at once (the Thing-level `properties` stream).
    all: usize,
    each: HashMap<Arc<str>, usize>,
}

impl Observed {
    /// Whether anyone observes `property` (itself, or every property).
    pub fn observes(&self, property: &str) -> bool {
        self.all > 0 || self.each.get(property).is_some_and(|n| *n > 0)
    }

    fn count(&mut self, property: Option<&Arc<str>>) -> &mut usize {
        match property {
            None => &mut self.all,
            Some(name) => self.each.entry(name.clone()).or_default(),
        }
    }
}

/// What is observed, for the hub to keep.
pub(super) type Counts = watch::Sender<Observed>;

/// One observer of one property (or, with no name, of all of a Thing's properties): counted
/// from [`ThingHub::observe`](super::hub::ThingHub::observe) until dropped.
#[derive(Debug)]
#[must_use = "the property is observed only while the guard lives"]
pub struct ObserverGuard {
    counts: Counts,
    property: Option<Arc<str>>,
}

impl ObserverGuard {
    pub(super) fn new(counts: &Counts, property: Option<&str>) -> Self {
        let property = property.map(Arc::from);
        counts.send_modify(|observed| *observed.count(property.as_ref()) += 1);
        Self {
            counts: counts.clone(),
            property,
        }
    }
}

impl Drop for ObserverGuard {
    fn drop(&mut self) {
        let property = self.property.as_ref();
        self.counts.send_modify(|observed| {
            let count = observed.count(property);
            *count = count.saturating_sub(1);
            if *count == 0
                && let Some(name) = property
            {
                observed.each.remove(name);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_count_observers_until_dropped_and_all_covers_every_property() {
        let counts = Counts::new(Observed::default());
        let watching = counts.subscribe();
        let first = ObserverGuard::new(&counts, Some("t"));
        let second = ObserverGuard::new(&counts, Some("t"));
        assert!(watching.borrow().observes("t"));
        assert!(!watching.borrow().observes("other"));
        drop(first);
        assert!(watching.borrow().observes("t"), "one observer is left");
        drop(second);
        assert!(!watching.borrow().observes("t"));
        let all = ObserverGuard::new(&counts, None);
        assert!(watching.borrow().observes("other"));
        drop(all);
        assert!(!watching.borrow().observes("other"));
    }
}
