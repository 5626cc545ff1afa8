//! Pages of `GET P/action_invocations`: `?limit=N&after=<id>` answers at most N summaries
//! following the invocation `after` (oldest first, as the whole list), with a
//! `Link: <…>; rel="next"` header (RFC 8288) while more follow. Without either parameter the
//! answer is the reference's bare array of everything kept, which the Python `ThingClient`
//! reads; with 10,000 records kept that is ~6 MB, hence pages.

use labthings_core::{InvocationId, LocSegment, ValidationIssue};
use labthings_protocol::paths::INVOCATIONS_PAGE_MAX as MAX_LIMIT;
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::query;

/// A page asked for.
#[derive(Debug, PartialEq)]
pub struct Page {
    pub limit: usize,
    /// The invocation the page starts after; `None`: from the oldest.
    pub after: Option<InvocationId>,
}

impl Page {
    /// The page `query` asks for; `None` when it names neither `limit` nor `after` (the whole
    /// list). A bad value is FastAPI's 422 for a query parameter.
    pub fn parse(query: Option<&str>) -> Result<Option<Self>, ApiError> {
        let (limit, after) = (query::param(query, "limit")?, query::param(query, "after")?);
        let (limit, after) = (limit.as_deref(), after.as_deref());
        if limit.is_none() && after.is_none() {
            return Ok(None);
        }
        let limit = match limit {
            None => MAX_LIMIT,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as usize,
                Ok(n) => {
                    let (kind, msg, ctx) = if n < 1 {
                        (
                            "greater_than_equal",
                            "Input should be greater than or equal to 1".to_owned(),
                            json!({"ge": 1}),
                        )
                    } else {
                        (
                            "less_than_equal",
                            format!("Input should be less than or equal to {MAX_LIMIT}"),
                            json!({"le": MAX_LIMIT}),
                        )
                    };
                    return Err(issue("limit", kind, msg, text, Some(ctx)));
                }
                Err(_) => {
                    return Err(issue(
                        "limit",
                        "int_parsing",
                        "Input should be a valid integer, unable to parse string as an integer"
                            .into(),
                        text,
                        None,
                    ));
                }
            },
        };
        let after = match after {
            None => None,
            Some(text) => Some(text.parse::<uuid::Uuid>().map(InvocationId::from).map_err(
                |error| {
                    issue(
                        "after",
                        "uuid_parsing",
                        format!("Input should be a valid UUID, {error}"),
                        text,
                        None,
                    )
                },
            )?),
        };
        Ok(Some(Self { limit, after }))
    }

    /// The index range of `ids` (the whole list, oldest first) this page covers; 422 when
    /// `after` names no kept invocation (it expired, or never was).
    pub fn range(
        &self,
        mut ids: impl ExactSizeIterator<Item = InvocationId>,
    ) -> Result<(usize, usize), ApiError> {
        let len = ids.len();
        let start = match &self.after {
            None => 0,
            Some(after) => {
                ids.position(|id| id == *after).ok_or_else(|| {
                    issue(
                        "after",
                        "invocation_not_found",
                        "No kept invocation has this id (it may have expired)".into(),
                        &after.to_string(),
                        None,
                    )
                })? + 1
            }
        };
        Ok((start, (start + self.limit).min(len)))
    }

    /// The `Link` header's value for the page after the one ending with `last`.
    pub fn next_link(&self, list_url: &str, last: &InvocationId) -> String {
        format!(
            "<{list_url}?limit={}&after={last}>; rel=\"next\"",
            self.limit
        )
    }
}

fn issue(name: &str, kind: &'static str, msg: String, input: &str, ctx: Option<Value>) -> ApiError {
    ApiError::Unprocessable(vec![ValidationIssue {
        kind: kind.into(),
        loc: vec![
            LocSegment::Field("query".into()),
            LocSegment::Field(name.into()),
        ],
        msg,
        input: Value::String(input.to_owned()),
        ctx,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_parameter_means_the_whole_list() {
        assert_eq!(Page::parse(None).unwrap(), None);
        assert_eq!(Page::parse(Some("x=1")).unwrap(), None);
        let page = Page::parse(Some("limit=2")).unwrap().unwrap();
        assert_eq!(
            page,
            Page {
                limit: 2,
                after: None
            }
        );
        for bad in ["limit=0", "limit=1001", "limit=x", "limit", "after=nope"] {
            assert!(
                matches!(Page::parse(Some(bad)), Err(ApiError::Unprocessable(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Page::parse(Some("limit=1%")),
            Err(ApiError::Problem(problem)) if problem.status == 400
        ));
    }
}
