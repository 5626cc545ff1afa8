//! The typed client takes a type named `Blob` in an action's output for `labthings_core::Blob`
//! and returns a `RemoteBlob` for it; a Thing's own type named `Blob` still builds, and calling
//! that action on the typed client is the one error, which says so.

use labthings_core::prelude::*;

mod mine {
    #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    pub struct Blob {
        pub bytes: Vec<u8>,
    }
}

#[thing]
pub struct Scanner {}

#[thing]
impl Scanner {
    /// Scan.
    #[action]
    fn scan(&self) -> mine::Blob {
        mine::Blob { bytes: vec![1] }
    }
}

async fn remote(scanner: &ScannerClient) {
    let _ = scanner.scan().await;
}

fn main() {
    let _ = remote;
}
