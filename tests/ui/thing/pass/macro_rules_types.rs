//! Types that reach `#[thing]` through a `macro_rules!` macro arrive wrapped in invisible
//! groups; they must be recognised as if written directly.

use labthings_core::prelude::*;

macro_rules! stage {
    ($property:ty, $logger:ty, $output:ty) => {
        #[thing]
        struct Stage {
            #[property]
            speed: $property,
        }

        #[thing]
        impl Stage {
            /// Log and report.
            #[action]
            fn report(&self, logger: $logger) -> $output {
                logger.info("reporting");
                Ok(self.speed.get())
            }
        }
    };
}

stage!(Property<f64>, Logger, Result<f64, std::io::Error>);

fn main() {
    let stage = Stage {
        speed: Property::new(1.0),
    };
    let metadata = stage.metadata();
    assert!(!metadata.actions[0].takes_input);
    assert_eq!(metadata.actions[0].output_schema["type"], "number");
}
