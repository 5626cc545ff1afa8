use labthings_core::prelude::*;

/// A Thing with only a data property and no methods.
#[thing]
struct Empty {
    #[property]
    count: Property<i64>,
}

#[thing]
impl Empty {}

fn main() {
    let x = Empty {
        count: Property::new(0),
    };
    let meta = labthings_core::Thing::metadata(&x);
    assert_eq!(meta.properties.len(), 1);
    assert!(meta.actions.is_empty());
    assert_eq!(meta.type_name, "Empty");
    assert_eq!(
        meta.description.as_deref(),
        Some("A Thing with only a data property and no methods.")
    );
}
