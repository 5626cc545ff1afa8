use labthings_core::prelude::*;

#[derive(Clone)]
struct Tag(String);

impl FromInvocation for Tag {
    fn from_invocation(ctx: &InvocationContext) -> Self {
        Tag(ctx.id().to_string())
    }
}

#[thing]
struct Stage {}

#[thing]
impl Stage {
    /// Report the tag.
    #[action]
    fn tag(&self, #[inject(fresh)] tag: Tag) -> String {
        tag.0
    }
}

fn main() {}
