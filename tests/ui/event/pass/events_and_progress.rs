//! Events in declaration order, with doc titles and payload schemas (none for `Event<()>`),
//! bound by `attach`; `Progress` injected by its type name and with `#[inject]`.

use std::sync::{Arc, Mutex};

use labthings_core::prelude::*;
use labthings_core::{InvocationContext, PropertyObserver};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

/// Where the stage is.
#[derive(Serialize, JsonSchema)]
struct Position {
    x: i64,
}

#[thing]
struct Stage {
    /// The stage arrived.
    ///
    /// Sent with the position reached.
    #[event]
    arrived: Event<Position>,
    #[property]
    moves: Property<u32>,
    /// The stage stopped.
    #[event]
    stopped: Event<()>,
}

#[thing]
impl Stage {
    /// Go home.
    #[action]
    fn home(&self, progress: Progress, #[inject] same: Progress) {
        progress.set(0.5);
        assert_eq!(same.get(), Some(0.5), "one Progress per invocation");
        same.set(1.0);
        self.arrived.emit(Position { x: 0 });
        self.stopped.emit(());
    }
}

#[derive(Default)]
struct Heard(Mutex<Vec<(String, String, Value)>>);

impl PropertyObserver for Heard {
    fn property_changed(&self, _: &str, _: &str, _: &Value) {}
    fn event_emitted(&self, thing: &str, event: &str, data: &Value) {
        let mut heard = self.0.lock().unwrap();
        heard.push((thing.into(), event.into(), data.clone()));
    }
}

fn main() {
    let stage = Arc::new(Stage {
        arrived: Event::new(),
        moves: Property::new(0),
        stopped: Event::default(),
    });
    let meta = stage.metadata();
    let names: Vec<&str> = meta.events.iter().map(|e| e.name).collect();
    assert_eq!(names, ["arrived", "stopped"]);
    let arrived = meta.event("arrived").unwrap();
    assert_eq!(arrived.title, "The stage arrived.");
    assert_eq!(
        arrived.description.as_deref(),
        Some("The stage arrived.\n\nSent with the position reached.")
    );
    assert_eq!(arrived.data_schema.as_ref().unwrap()["properties"]["x"]["type"], "integer");
    assert_eq!(meta.event("stopped").unwrap().data_schema, None);

    let heard = Arc::new(Heard::default());
    stage.attach("stage", heard.clone());
    let ctx = InvocationContext::new(InvocationId::new());
    let call = stage.clone().prepare_action("home", None).unwrap();
    call.body.run_blocking(&ctx).ok().unwrap();
    assert_eq!(ctx.progress().get(), Some(1.0));
    let heard = heard.0.lock().unwrap().clone();
    assert_eq!(
        heard,
        [
            ("stage".into(), "arrived".into(), json!({"x": 0})),
            ("stage".into(), "stopped".into(), json!(null)),
        ]
    );
}
