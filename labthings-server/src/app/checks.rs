//! The checks a Thing passes before it is served: what `#[thing]` would have refused at
//! compile time in a hand-written `Thing`, and schemas the validator can't apply.

use std::collections::HashSet;

use labthings_core::validate::check_supported;
use labthings_core::{Thing, ThingMetadata};
use labthings_protocol::paths::{RESERVED_AFFORDANCE_NAMES, endpoint_path_problem};

use crate::app::error::ServerError;

/// Refuse a Thing whose property or action-input schemas use JSON Schema the validator does
/// not implement (a `$ref` from a recursive type, say): requests would not be checked against
/// it, so this is found at start-up instead of passed over at every request.
pub fn schemas(thing: &str, metadata: &ThingMetadata) -> Result<(), ServerError> {
    let properties = metadata
        .properties
        .iter()
        .map(|p| (format!("property `{}`", p.name), &p.schema));
    let inputs = metadata
        .actions
        .iter()
        .map(|a| (format!("the input of action `{}`", a.name), &a.input_schema));
    for (affordance, schema) in properties.chain(inputs) {
        check_supported(schema).map_err(|problem| ServerError::UnsupportedSchema {
            thing: thing.to_owned(),
            affordance,
            problem,
        })?;
    }
    Ok(())
}

/// Refuse, at start-up, endpoints a hand-written `Thing` declares that `#[thing]` would have
/// refused at compile time: a path that isn't plain, one under an affordance or a route the
/// server reserves, two endpoints for one method and path.
pub fn endpoints(thing_name: &str, thing: &dyn Thing) -> Result<(), ServerError> {
    let metadata = thing.metadata();
    let mut seen = HashSet::new();
    for endpoint in thing.endpoints() {
        let problem = |problem: String| ServerError::Endpoint {
            thing: thing_name.to_owned(),
            path: endpoint.path.to_owned(),
            problem,
        };
        if let Some(why) = endpoint_path_problem(endpoint.path) {
            return Err(problem(why));
        }
        let first = endpoint.path.split('/').next().unwrap_or_default();
        if RESERVED_AFFORDANCE_NAMES.contains(&first) || is_affordance(metadata, first) {
            return Err(problem(format!(
                "`{first}` is an affordance or one of the server's own routes"
            )));
        }
        if !seen.insert((endpoint.method, endpoint.path)) {
            return Err(problem(format!(
                "two endpoints answer {} at this path",
                endpoint.method
            )));
        }
    }
    Ok(())
}

fn is_affordance(metadata: &ThingMetadata, name: &str) -> bool {
    metadata.property(name).is_some()
        || metadata.action(name).is_some()
        || metadata.event(name).is_some()
        || metadata.stream(name).is_some()
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use labthings_core::{
        EndpointMetadata, EndpointMethod, PropertyError, PropertyKind, PropertyMetadata,
    };
    use serde_json::Value;

    use super::*;

    /// A hand-written `Thing` with a property `gain` and the endpoints it is given.
    struct HandWritten(&'static [EndpointMetadata]);

    impl Thing for HandWritten {
        fn metadata(&self) -> &'static ThingMetadata {
            static METADATA: OnceLock<ThingMetadata> = OnceLock::new();
            METADATA.get_or_init(|| ThingMetadata {
                type_name: "HandWritten",
                title: "HandWritten".into(),
                description: None,
                properties: vec![PropertyMetadata {
                    name: "gain",
                    title: "gain".into(),
                    description: None,
                    schema: serde_json::json!({"type": "number"}),
                    read_only: false,
                    kind: PropertyKind::Data,
                    constrained: false,
                    uses_global_lock: true,
                    observe: None,
                }],
                actions: Vec::new(),
                events: Vec::new(),
                slots: Vec::new(),
                streams: Vec::new(),
            })
        }
        fn endpoints(&self) -> &'static [EndpointMetadata] {
            self.0
        }
        fn read_property(&self, _: &str) -> Result<Value, PropertyError> {
            Err(PropertyError::NotFound)
        }
        crate::hand_written::refuse_the_rest!();
    }

    const fn endpoint(method: EndpointMethod, path: &'static str) -> EndpointMetadata {
        EndpointMetadata {
            name: path,
            method,
            path,
            title: None,
            description: None,
            content_type: None,
            is_async: false,
            uses_global_lock: true,
        }
    }

    fn problem(endpoints: &'static [EndpointMetadata]) -> Option<String> {
        super::endpoints("sensor", &HandWritten(endpoints))
            .err()
            .map(|e| e.to_string())
    }

    #[test]
    fn start_up_refuses_endpoints_the_macro_would_refuse() {
        use EndpointMethod::{Get, Post};
        const FINE: &[EndpointMetadata] = &[endpoint(Get, "a/b.csv"), endpoint(Post, "a/b.csv")];
        assert_eq!(problem(FINE), None);
        const UNDER_PROPERTY: &[EndpointMetadata] = &[endpoint(Get, "gain/raw")];
        assert_eq!(
            problem(UNDER_PROPERTY).as_deref(),
            Some(
                "Thing `sensor`, endpoint `gain/raw`: `gain` is an affordance or one of the \
                 server's own routes"
            )
        );
        const RESERVED: &[EndpointMetadata] = &[endpoint(Get, "ws")];
        assert!(problem(RESERVED).is_some_and(|p| p.contains("endpoint `ws`")));
        const TWICE: &[EndpointMetadata] = &[endpoint(Get, "x"), endpoint(Get, "x")];
        assert!(
            problem(TWICE).is_some_and(|p| p.ends_with("two endpoints answer GET at this path"))
        );
        for bad in [
            &[endpoint(Get, "a//b")][..],
            &[endpoint(Get, "a b")],
            &[endpoint(Get, "../x")],
            &[endpoint(Get, "")],
        ] {
            let bad: &'static [EndpointMetadata] = Box::leak(bad.to_vec().into_boxed_slice());
            assert!(
                problem(bad).is_some_and(|p| p.contains("an endpoint's path")),
                "{bad:?}"
            );
        }
    }
}
