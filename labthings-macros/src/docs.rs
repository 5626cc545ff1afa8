//! Doc comments → titles and descriptions.

use syn::{Attribute, Expr, ExprLit, Lit, Meta};

/// The documentation written on an item, as text.
#[derive(Debug, Clone, Default)]
pub struct Docs {
    text: String,
}

impl Docs {
    /// Gather `///` lines (`#[doc = "…"]` attributes) in order.
    pub fn from_attrs(attrs: &[Attribute]) -> Self {
        let lines: Vec<String> = attrs
            .iter()
            .filter(|attr| attr.path().is_ident("doc"))
            .filter_map(|attr| match &attr.meta {
                Meta::NameValue(nv) => match &nv.value {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            })
            .flat_map(|chunk| chunk.split('\n').map(str::to_owned).collect::<Vec<_>>())
            .collect();
        // `/// text` arrives as " text": drop the one space the comment syntax adds.
        let lines: Vec<&str> = lines
            .iter()
            .map(|line| line.strip_prefix(' ').unwrap_or(line))
            .collect();
        Self {
            text: lines.join("\n").trim().to_owned(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Everything written.
    pub fn full(&self) -> Option<&str> {
        (!self.is_empty()).then_some(self.text.as_str())
    }

    /// The first paragraph, on one line: the title.
    pub fn title(&self) -> Option<String> {
        let first: Vec<&str> = self
            .text
            .lines()
            .take_while(|line| !line.trim().is_empty())
            .map(str::trim)
            .collect();
        (!first.is_empty()).then(|| first.join(" "))
    }

    /// What follows the first paragraph, or the title when nothing does.
    pub fn rest_or_title(&self) -> Option<String> {
        let mut lines = self.text.lines().skip_while(|line| !line.trim().is_empty());
        let rest: Vec<&str> = lines.by_ref().collect();
        let rest = rest.join("\n").trim().to_owned();
        if rest.is_empty() {
            self.title()
        } else {
            Some(rest)
        }
    }
}
