//! Mock instruments for the demo lab, the interop suite and the benchmarks: a [`Counter`]
//! (the same affordances as the reference's `PeerCounter`), a [`MockStage`] and a
//! [`MockCamera`]. Their behaviour is simulated, but honestly: values change only as the
//! actions say they do, and every action is cancellable where a real one would be.

mod camera;
mod counter;
mod stage;

pub use camera::{FrameMetadata, MockCamera};
pub use counter::Counter;
pub use stage::MockStage;
