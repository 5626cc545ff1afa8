//! Thing slots: references from one Thing to another (a camera that drives the stage for
//! autofocus). Slots are wired by the server after every Thing is constructed, by the name
//! given in the config's `thing_slots` or else by type, before anything is served.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// A required reference to another Thing of type `T`. The server refuses to start if it can't
/// fill it.
pub struct Slot<T> {
    target: OnceLock<Arc<T>>,
}

/// A reference to another Thing of type `T` that may be absent.
pub struct OptionalSlot<T> {
    target: OnceLock<Arc<T>>,
}

impl<T> Slot<T> {
    /// An empty slot, filled by the server before serving.
    pub fn new() -> Self {
        Self {
            target: OnceLock::new(),
        }
    }

    /// The Thing in this slot.
    ///
    /// # Panics
    /// If the slot has not been wired — which a served Thing never sees, since the server
    /// wires every required slot before it starts.
    pub fn get(&self) -> &T {
        match self.target.get() {
            Some(target) => target,
            None => panic!(
                "Slot<{}> used before it was wired: slots are filled when the server starts",
                std::any::type_name::<T>()
            ),
        }
    }

    /// The Thing in this slot, or `None` before wiring.
    pub fn try_get(&self) -> Option<&Arc<T>> {
        self.target.get()
    }
}

impl<T> OptionalSlot<T> {
    /// An empty slot, filled by the server before serving if it can be.
    pub fn new() -> Self {
        Self {
            target: OnceLock::new(),
        }
    }

    /// The Thing in this slot, if one was wired.
    pub fn get(&self) -> Option<&T> {
        self.target.get().map(|t| &**t)
    }

    /// A handle to the Thing in this slot, if one was wired: for keeping it where `&self`
    /// can't go (a producer thread, say).
    pub fn shared(&self) -> Option<&Arc<T>> {
        self.target.get()
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Default for OptionalSlot<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Slot<{}>({})",
            std::any::type_name::<T>(),
            if self.target.get().is_some() {
                "wired"
            } else {
                "empty"
            }
        )
    }
}

impl<T> fmt::Debug for OptionalSlot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OptionalSlot<{}>({})",
            std::any::type_name::<T>(),
            if self.target.get().is_some() {
                "wired"
            } else {
                "empty"
            }
        )
    }
}

/// A slot as the server sees it.
#[derive(Debug, Clone)]
pub struct SlotMetadata {
    /// The slot field's name.
    pub name: &'static str,
    /// The type of Thing the slot holds.
    pub target_type: TypeId,
    /// The name of the Thing type it holds.
    pub target_type_name: &'static str,
    /// Whether it may stay empty (`OptionalSlot`).
    pub optional: bool,
}

/// A Thing given to a slot is not of the slot's type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the slot holds a `{expected}`")]
pub struct WrongSlotType {
    /// The type the slot holds.
    pub expected: &'static str,
}

/// Implemented by `Slot<T>` and `OptionalSlot<T>` for generated code.
#[doc(hidden)]
pub trait SlotField {
    type Target: Send + Sync + 'static;
    const OPTIONAL: bool;
    fn fill(&self, target: Arc<dyn Any + Send + Sync>) -> Result<(), WrongSlotType>;
}

fn downcast<T: Send + Sync + 'static>(
    target: Arc<dyn Any + Send + Sync>,
) -> Result<Arc<T>, WrongSlotType> {
    target.downcast::<T>().map_err(|_| WrongSlotType {
        expected: std::any::type_name::<T>(),
    })
}

impl<T: Send + Sync + 'static> SlotField for Slot<T> {
    type Target = T;
    const OPTIONAL: bool = false;
    fn fill(&self, target: Arc<dyn Any + Send + Sync>) -> Result<(), WrongSlotType> {
        let _ = self.target.set(downcast(target)?);
        Ok(())
    }
}

impl<T: Send + Sync + 'static> SlotField for OptionalSlot<T> {
    type Target = T;
    const OPTIONAL: bool = true;
    fn fill(&self, target: Arc<dyn Any + Send + Sync>) -> Result<(), WrongSlotType> {
        let _ = self.target.set(downcast(target)?);
        Ok(())
    }
}
