//! Every `Blob` in an action's output comes back from the typed client as a `RemoteBlob`:
//! alone, in a `Result`, as a type argument, in a tuple.

use labthings_core::client::{RemoteBlob, Result};
use labthings_core::prelude::*;

#[thing]
pub struct Camera {}

#[thing]
impl Camera {
    /// One frame.
    #[action]
    fn frame(&self) -> Blob {
        Blob::jpeg(vec![0xFF, 0xD8, 0xFF, 0xD9])
    }

    /// Maybe a frame.
    #[action]
    fn maybe(&self) -> std::result::Result<Option<labthings_core::Blob>, String> {
        Ok(None)
    }

    /// A burst of frames, with a count.
    #[action]
    fn burst(&self) -> (u32, Vec<Blob>) {
        (0, Vec::new())
    }
}

async fn remote(camera: &CameraClient) -> Result<()> {
    let frame: RemoteBlob = camera.frame().await?;
    let _: bytes::Bytes = frame.bytes().await?;
    let _: Option<RemoteBlob> = camera.maybe().await?;
    let (_, frames): (u32, Vec<RemoteBlob>) = camera.burst().await?;
    let _ = frames;
    let _: RemoteBlob = camera.start_frame().await?.wait().await?;
    Ok(())
}

fn main() {
    let _ = remote;
}
