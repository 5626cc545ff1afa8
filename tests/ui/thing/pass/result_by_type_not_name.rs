//! A `Result` is recognised by its type, not its name: an alias of `Result` is one (its error
//! fails the action), a struct named `…Result` is an ordinary value.

use labthings_core::prelude::*;

/// An ordinary value whose name ends in `Result`.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct SearchResult<T> {
    hits: Vec<T>,
}

type Fallible<T> = std::io::Result<T>;

#[thing]
struct Library {}

#[thing]
impl Library {
    /// Search the shelves.
    #[action]
    fn search(&self) -> SearchResult<u32> {
        SearchResult { hits: vec![1, 2] }
    }

    /// The last search.
    #[property]
    fn last(&self) -> SearchResult<u32> {
        SearchResult { hits: vec![] }
    }

    /// Fails.
    #[action]
    fn fail(&self) -> Fallible<u32> {
        Err(std::io::Error::other("no shelves"))
    }

    #[on_start]
    fn open(&self) -> Fallible<()> {
        Ok(())
    }
}

fn main() {
    let library = Library {};
    let metadata = library.metadata();
    let search = metadata.action("search").unwrap();
    assert_eq!(search.output_schema["type"], "object");
    assert!(search.output_schema["properties"]["hits"].is_object());
    let fail = metadata.action("fail").unwrap();
    assert_eq!(fail.output_schema["type"], "integer");
    assert_eq!(library.read_property("last").unwrap(), serde_json::json!({"hits": []}));
    assert!(library.on_start().is_ok());
}
