//! Every return shape an endpoint may have, `#[cfg]`-gated endpoints, and endpoints sharing a
//! path with different HTTP methods.
use std::sync::Arc;

use labthings_core::prelude::*;
use labthings_core::Thing;

#[thing]
struct Camera {}

#[derive(Debug)]
struct Broken;

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("broken")
    }
}

#[thing]
impl Camera {
    #[endpoint(get, path = "frame.jpg", content_type = "image/jpeg")]
    fn frame(&self) -> Vec<u8> {
        vec![0xFF, 0xD8, 0xFF, 0xD9]
    }

    #[endpoint(put, path = "frame.jpg", no_lock)]
    fn replace(&self, request: EndpointRequest) -> Result<StatusCode, Broken> {
        if request.body().is_empty() { Err(Broken) } else { Ok(StatusCode::NO_CONTENT) }
    }

    #[endpoint(get)]
    fn text(&self) -> &'static str {
        "text"
    }

    #[endpoint(patch, path = "nested/deeper/path-1_~.v2")]
    async fn json(&self, request: EndpointRequest) -> serde_json::Value {
        serde_json::json!({"query": request.query_string()})
    }

    #[endpoint(delete)]
    fn nothing(&self) {}

    #[endpoint(get)]
    fn blob(&self) -> Result<Blob, std::io::Error> {
        Ok(Blob::png(vec![1, 2, 3]))
    }

    #[cfg(any())]
    #[endpoint(get)]
    fn configured_out(&self) -> Vec<u8> {
        Vec::new()
    }
}

fn main() {
    let camera = Arc::new(Camera {});
    let paths: Vec<(EndpointMethod, &str)> =
        camera.endpoints().iter().map(|e| (e.method, e.path)).collect();
    assert_eq!(
        paths,
        [
            (EndpointMethod::Get, "frame.jpg"),
            (EndpointMethod::Put, "frame.jpg"),
            (EndpointMethod::Get, "text"),
            (EndpointMethod::Patch, "nested/deeper/path-1_~.v2"),
            (EndpointMethod::Delete, "nothing"),
            (EndpointMethod::Get, "blob"),
        ]
    );
    assert!(!camera.endpoints()[1].uses_global_lock);
    let request = EndpointRequest::new(
        labthings_core::endpoint::Method::GET,
        Default::default(),
        None,
        Default::default(),
    );
    let Some(labthings_core::EndpointCall::Blocking(call)) =
        camera.clone().call_endpoint("frame", request.clone())
    else {
        panic!("a plain fn is a blocking call");
    };
    assert_eq!(call().status_code(), StatusCode::OK);
    assert!(camera.call_endpoint("configured_out", request).is_none());
}
