//! Complete responses: every field an operation selected is in `data`, as a value or null,
//! down to the first null parent, as the GraphQL specification's rules on errors and
//! non-null propagation require (§ 6.4.4, "Handling Field Errors").
//!
//! async-graphql 7 leaves a field that failed out of its object instead of setting it to
//! null, and so does not propagate a failed non-null field to its parent. Apollo's generated
//! parsers refuse an object that lacks a selected field, so one refused field would break a
//! whole list. Here each error's `path` is walked through the operation (aliases, fragments)
//! and the schema's types: the error's field is set to null when it is nullable, else the
//! nearest nullable field or list item above it, else `data` itself.

use std::collections::HashMap;
use std::sync::OnceLock;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, FragmentDefinition, OperationType, Selection,
    SelectionSet, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, PathSegment, Positioned, Response, Value};

/// The output fields of each object and interface type of the contract, by name.
struct Shapes {
    fields: HashMap<String, HashMap<String, Type>>,
}

fn shapes() -> &'static Shapes {
    static SHAPES: OnceLock<Shapes> = OnceLock::new();
    SHAPES.get_or_init(|| {
        let document = async_graphql::parser::parse_schema(crate::graphql::sdl())
            .expect("the schema's own SDL parses");
        let mut fields = HashMap::new();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let of_type = match ty.node.kind {
                TypeKind::Object(object) => object.fields,
                TypeKind::Interface(interface) => interface.fields,
                _ => continue,
            };
            let by_name = of_type
                .into_iter()
                .map(|f| (f.node.name.node.to_string(), f.node.ty.node))
                .collect();
            fields.insert(ty.node.name.node.to_string(), by_name);
        }
        Shapes { fields }
    })
}

/// Makes `response` complete for the operation `query` (named `operation_name`) selected.
pub fn complete(response: &mut Response, query: &str, operation_name: Option<&str>) {
    if response.errors.iter().all(|e| e.path.is_empty()) {
        return;
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return;
    };
    let Some((kind, selection)) = operation(&document, operation_name) else {
        return;
    };
    let root = match kind {
        OperationType::Query => "Query",
        OperationType::Mutation => "Mutation",
        OperationType::Subscription => "Subscription",
    };
    let walker = Walker {
        shapes: shapes(),
        fragments: &document.fragments,
    };
    let mut targets: Vec<Option<Vec<PathSegment>>> = response
        .errors
        .iter()
        .filter(|e| !e.path.is_empty())
        .filter_map(|e| walker.null_target(root, selection, &e.path))
        .collect();
    // Shallow first, so that nothing is written under a parent already nulled.
    targets.sort_by_key(|t| t.as_ref().map_or(0, Vec::len));
    let mut nulled: Vec<Vec<PathSegment>> = Vec::new();
    for target in targets {
        let Some(path) = target else {
            response.data = Value::Null;
            return;
        };
        if nulled.iter().any(|done| path.starts_with(done)) {
            continue;
        }
        set_null(&mut response.data, &path);
        nulled.push(path);
    }
}

fn operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<(OperationType, &'a Positioned<SelectionSet>)> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some((op.node.ty, &op.node.selection_set)),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name).map(|op| (op.node.ty, &op.node.selection_set))
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops
            .values()
            .next()
            .map(|op| (op.node.ty, &op.node.selection_set)),
        _ => None,
    }
}

struct Walker<'a> {
    shapes: &'a Shapes,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
}

impl<'a> Walker<'a> {
    /// Where the null of an error at `path` lands: Some(path of the nearest nullable field
    /// or list item), Some(None) for `data` itself; None when the path cannot be followed
    /// (the response is then left as it is).
    fn null_target(
        &self,
        root: &str,
        selection: &'a Positioned<SelectionSet>,
        path: &[PathSegment],
    ) -> Option<Option<Vec<PathSegment>>> {
        let mut sets = vec![(root.to_owned(), selection)];
        let mut ty: Option<&Type> = None;
        let mut nullable_at: Option<usize> = None;
        for (i, segment) in path.iter().enumerate() {
            match segment {
                PathSegment::Field(key) => {
                    let (field_type, next) = self.field(&sets, key)?;
                    if field_type.nullable {
                        nullable_at = Some(i);
                    }
                    ty = Some(field_type);
                    let named = named_type(field_type);
                    sets = next.into_iter().map(|s| (named.to_owned(), s)).collect();
                }
                PathSegment::Index(_) => {
                    let BaseType::List(item) = &ty?.base else {
                        return None;
                    };
                    if item.nullable {
                        nullable_at = Some(i);
                    }
                    ty = Some(item);
                }
            }
        }
        Some(nullable_at.map(|i| path[..=i].to_vec()))
    }

    /// The type of the field answered under `key`, and the selection sets below it.
    fn field(
        &self,
        sets: &[(String, &'a Positioned<SelectionSet>)],
        key: &str,
    ) -> Option<(&'a Type, Vec<&'a Positioned<SelectionSet>>)> {
        let mut found: Option<&'a Type> = None;
        let mut below = Vec::new();
        for (on, set) in sets {
            self.collect(on, set, key, &mut found, &mut below);
        }
        found.map(|ty| (ty, below))
    }

    fn collect(
        &self,
        on: &str,
        set: &'a Positioned<SelectionSet>,
        key: &str,
        found: &mut Option<&'a Type>,
        below: &mut Vec<&'a Positioned<SelectionSet>>,
    ) {
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) if field.node.response_key().node.as_str() == key => {
                    let name = field.node.name.node.as_str();
                    if let Some(ty) = self.shapes.fields.get(on).and_then(|f| f.get(name)) {
                        found.get_or_insert(ty);
                        below.push(&field.node.selection_set);
                    }
                }
                Selection::Field(_) => {}
                Selection::InlineFragment(fragment) => {
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(on, |c| c.node.on.node.as_str());
                    self.collect(on, &fragment.node.selection_set, key, found, below);
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.fragments.get(&spread.node.fragment_name.node) {
                        let on = fragment.node.type_condition.node.on.node.as_str();
                        self.collect(on, &fragment.node.selection_set, key, found, below);
                    }
                }
            }
        }
    }
}

fn named_type(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(item) => named_type(item),
    }
}

/// Sets the value at `path` to null, making the objects on the way when a parent was left
/// out or nulled because every field under it failed.
fn set_null(data: &mut Value, path: &[PathSegment]) {
    let mut here = data;
    for (i, segment) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        match segment {
            PathSegment::Field(key) => {
                if !matches!(here, Value::Object(_)) {
                    *here = Value::Object(Default::default());
                }
                let Value::Object(object) = here else {
                    unreachable!("made an object just above");
                };
                let entry = object.entry(Name::new(key)).or_insert(Value::Null);
                if last {
                    *entry = Value::Null;
                    return;
                }
                here = entry;
            }
            PathSegment::Index(index) => {
                let Value::List(items) = here else {
                    return;
                };
                let Some(item) = items.get_mut(*index) else {
                    return;
                };
                if last {
                    *item = Value::Null;
                    return;
                }
                here = item;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::ServerError;

    fn response(data: serde_json::Value, paths: &[serde_json::Value]) -> Response {
        let mut response = Response::new(Value::from_json(data).unwrap());
        for path in paths {
            let mut error = ServerError::new("refused", None);
            error.path = serde_json::from_value(path.clone()).unwrap();
            response.errors.push(error);
        }
        response
    }

    fn data(response: &Response) -> serde_json::Value {
        response.data.clone().into_json().unwrap()
    }

    #[test]
    fn a_refused_nullable_field_is_null_and_its_siblings_stay() {
        let query = "{ g: group(id: \"x\") { name members { nodes { id } } } }";
        let mut r = response(
            serde_json::json!({ "g": { "name": "Hack" } }),
            &[serde_json::json!(["g", "members"])],
        );
        complete(&mut r, query, None);
        assert_eq!(
            data(&r),
            serde_json::json!({ "g": { "name": "Hack", "members": null } })
        );
    }

    #[test]
    fn a_failed_non_null_field_nulls_its_nearest_nullable_parent() {
        // Group.name is String!: the group (nullable) becomes null.
        let query = "query { group(id: \"x\") { ...G } } fragment G on Group { id name }";
        let mut r = response(
            serde_json::json!({ "group": { "id": "x" } }),
            &[serde_json::json!(["group", "name"])],
        );
        complete(&mut r, query, None);
        assert_eq!(data(&r), serde_json::json!({ "group": null }));
    }

    #[test]
    fn a_failed_item_of_a_non_null_list_nulls_the_list_or_its_parent() {
        // searchGroups: GroupSearchConnection! ; nodes: [Group!]! ; name: String!.
        let query =
            "{ searchGroups(filter: {near: {lat: 1, lng: 1}, radiusKm: 1}) { nodes { name } } }";
        let mut r = response(
            serde_json::json!({ "searchGroups": { "nodes": [{ "name": "a" }, {}] } }),
            &[serde_json::json!(["searchGroups", "nodes", 1, "name"])],
        );
        complete(&mut r, query, None);
        assert_eq!(data(&r), serde_json::Value::Null);
    }

    #[test]
    fn a_parent_left_null_because_all_its_fields_failed_is_made_again() {
        let query = "{ viewer { user { id } } group(id: \"g\") { members { nodes { id } } } }";
        let mut r = response(
            serde_json::json!({ "viewer": null, "group": null }),
            &[serde_json::json!(["group", "members"])],
        );
        complete(&mut r, query, None);
        assert_eq!(
            data(&r),
            serde_json::json!({ "viewer": null, "group": { "members": null } })
        );
    }
}
