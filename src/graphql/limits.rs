//! What one request may ask of the server: its depth, its cost, its page sizes, how many of
//! its root fields run at once, and how long it may take.
//!
//! The cost of a query is counted before anything runs. Each field costs 1; a list costs
//! what it can return (`first` × its children); fields that do real work besides (a
//! search, a recommendation, an export) cost that work too. Every `first` is checked to be
//! 1–100 before any cost is computed, and the arithmetic saturates, so no argument can make
//! a huge query look cheap.

use std::borrow::Cow;
use std::time::Duration;

use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, ErrorExtensionValues, ObjectType, OutputType,
    Positioned, ServerError, ServerResult, Value, Variables,
};
use tokio::sync::Semaphore;

use crate::error::code;
use crate::graphql::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// Deepest query accepted.
pub const MAX_DEPTH: usize = 15;
/// Most expensive query accepted (see the module's doc).
pub const MAX_COMPLEXITY: usize = 2000;
/// A search (`searchGroups`, `searchEvents`): several range scans of the spatial index.
pub const SEARCH_COST: usize = 50;
/// `recommendedGroups`: reads every group sharing an interest within 100 km.
pub const RECOMMENDATION_COST: usize = 100;
/// `exportMyData`: a dozen reads of everything a member ever did.
pub const EXPORT_COST: usize = 500;
/// Root fields of one query that run at once; the rest wait their turn, so one request
/// holds only a few of the pool's connections.
pub const ROOT_FIELDS_AT_ONCE: usize = 4;
/// How long a request may take before it is stopped.
pub const REQUEST_BUDGET: Duration = Duration::from_secs(10);

/// The cost of a list that holds at most `most` items, each costing `child`.
pub fn bounded(most: usize, child: usize) -> usize {
    most.saturating_mul(child).min(MAX_COMPLEXITY + 1)
}

/// The cost of a page of `first` items, each costing `child`. Saturates: never more than
/// one over the limit, whatever the numbers.
pub fn page(first: Option<i32>, child: usize) -> usize {
    let first = first.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE) as usize;
    first.saturating_mul(child).min(MAX_COMPLEXITY + 1)
}

/// The cost of a page that also does `work` to find its items.
pub fn page_with(work: usize, first: Option<i32>, child: usize) -> usize {
    work.saturating_add(page(first, child))
        .min(MAX_COMPLEXITY + 1)
}

/// What a request may not ask, checked before it runs (and before any cost is counted):
/// every `first` is 1–100, and no string holds a NUL character. A document that does not
/// parse is left for execution to refuse with its own message.
pub fn check_request(request: &mut async_graphql::Request) -> Result<(), ServerError> {
    let variables = std::mem::take(&mut request.variables);
    let checked = match request.parsed_query() {
        Ok(document) => {
            check_page_sizes(document, &variables).and_then(|()| check_no_nul(document, &variables))
        }
        Err(_) => Ok(()),
    };
    request.variables = variables;
    checked
}

/// The root fields of a query, of which at most `ROOT_FIELDS_AT_ONCE` run at once: one
/// request holds only a few of the pool's connections, and the rest of its fields wait
/// their turn. Made per request (`graphql::context::prepare`).
pub struct RootTurns(Semaphore);

impl Default for RootTurns {
    fn default() -> Self {
        RootTurns(Semaphore::new(ROOT_FIELDS_AT_ONCE))
    }
}

/// The query root, resolving its fields a few at a time (see `RootTurns`). A wrapper
/// rather than an extension: async-graphql calls an extension for every field of every
/// object, where only the root's fields need it.
pub struct Limited<Q>(pub Q);

impl<Q: ContainerType> OutputType for Limited<Q> {
    fn type_name() -> Cow<'static, str> {
        Q::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Q::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        async_graphql::resolver_utils::resolve_container(ctx, self).await
    }
}

impl<Q: ContainerType> ContainerType for Limited<Q> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        let _turn = match ctx.data_opt::<RootTurns>() {
            Some(turns) => Some(
                turns
                    .0
                    .acquire()
                    .await
                    .expect("the semaphore is never closed"),
            ),
            None => None,
        };
        self.0.resolve_field(ctx).await
    }

    async fn find_entity(&self, ctx: &Context<'_>, params: &Value) -> ServerResult<Option<Value>> {
        self.0.find_entity(ctx, params).await
    }
}

impl<Q: ObjectType> ObjectType for Limited<Q> {}

/// No string of the request holds the NUL character: PostgreSQL stores no text with one, and
/// no member types one. Refused at the edge, for every field alike.
fn check_no_nul(document: &ExecutableDocument, variables: &Variables) -> ServerResult<()> {
    let mut clean = variables.values().all(nul_free);
    let mut visit =
        |set: &Positioned<SelectionSet>| visit_arguments(set, &mut |v| clean &= nul_free(v));
    for (_, op) in document.operations.iter() {
        visit(&op.node.selection_set);
    }
    for fragment in document.fragments.values() {
        visit(&fragment.node.selection_set);
    }
    if clean {
        return Ok(());
    }
    let mut error = ServerError::new("strings may not contain the NUL character (U+0000)", None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code::BAD_USER_INPUT);
    error.extensions = Some(extensions);
    Err(error)
}

fn visit_arguments(set: &Positioned<SelectionSet>, check: &mut impl FnMut(&Value)) {
    for selection in &set.node.items {
        match &selection.node {
            Selection::Field(field) => {
                for (_, value) in &field.node.arguments {
                    // Variables are checked apart; here only what the document writes.
                    if let Ok(literal) = value
                        .node
                        .clone()
                        .into_const_with(|_| Ok::<_, ()>(Value::Null))
                    {
                        check(&literal);
                    }
                }
                visit_arguments(&field.node.selection_set, check);
            }
            Selection::InlineFragment(fragment) => {
                visit_arguments(&fragment.node.selection_set, check)
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

fn nul_free(value: &Value) -> bool {
    match value {
        Value::String(s) => !s.contains('\0'),
        Value::List(items) => items.iter().all(nul_free),
        Value::Object(fields) => fields.iter().all(|(k, v)| !k.contains('\0') && nul_free(v)),
        _ => true,
    }
}

/// Every `first` argument of the document, literal or variable (given, or its default), is
/// 1–100. Fragments are checked where they are defined, once each.
fn check_page_sizes(document: &ExecutableDocument, given: &Variables) -> ServerResult<()> {
    let mut variables = given.clone();
    for (_, operation) in document.operations.iter() {
        for definition in &operation.node.variable_definitions {
            let name = &definition.node.name.node;
            if let (None, Some(default)) = (variables.get(name), &definition.node.default_value) {
                variables.insert(name.clone(), default.node.clone());
            }
        }
    }
    let fragments = document.fragments.values().map(|f| &f.node.selection_set);
    let operations = document
        .operations
        .iter()
        .map(|(_, op)| &op.node.selection_set);
    for set in operations.chain(fragments) {
        check_selection_set(set, &variables)?;
    }
    Ok(())
}

fn check_selection_set(set: &Positioned<SelectionSet>, variables: &Variables) -> ServerResult<()> {
    for selection in &set.node.items {
        match &selection.node {
            Selection::Field(field) => {
                check_field(field, variables)?;
                check_selection_set(&field.node.selection_set, variables)?;
            }
            Selection::InlineFragment(fragment) => {
                check_selection_set(&fragment.node.selection_set, variables)?;
            }
            Selection::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

fn check_field(field: &Positioned<Field>, variables: &Variables) -> ServerResult<()> {
    let Some(value) = field.node.get_argument("first") else {
        return Ok(());
    };
    let value = value
        .node
        .clone()
        .into_const_with(|name| variables.get(&name).cloned().ok_or(()))
        .ok();
    let within = match value {
        None | Some(Value::Null) => true,
        Some(Value::Number(n)) => n
            .as_i64()
            .is_some_and(|n| (1..=i64::from(MAX_PAGE_SIZE)).contains(&n)),
        // Any other type is the validator's to refuse, with its own message.
        Some(_) => true,
    };
    if within {
        return Ok(());
    }
    let mut error = ServerError::new(
        format!("first must be between 1 and {MAX_PAGE_SIZE}"),
        Some(field.pos),
    );
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code::BAD_USER_INPUT);
    extensions.set("field", "first");
    error.extensions = Some(extensions);
    Err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_saturate_instead_of_wrapping() {
        assert_eq!(page(Some(10), 3), 30);
        assert_eq!(page(None, 2), 40);
        assert_eq!(page(Some(i32::MAX), usize::MAX), MAX_COMPLEXITY + 1);
        assert_eq!(page(Some(-5), 7), 7, "clamped to 1");
        assert_eq!(page_with(usize::MAX, Some(1), 1), MAX_COMPLEXITY + 1);
        assert_eq!(page_with(SEARCH_COST, Some(20), 2), SEARCH_COST + 40);
    }
}
