//! Turning optional input fields into domain patches, the same way everywhere.

use async_graphql::MaybeUndefined;

use crate::domain::Patch;

/// A field that cannot be cleared: absent (or null) keeps the stored value.
pub fn keep_or_set<T>(value: Option<T>) -> Patch<T> {
    value.map_or(Patch::Keep, Patch::Set)
}

/// A field that can be cleared: absent keeps, null clears, a value replaces.
pub fn nullable<T, U>(value: MaybeUndefined<T>, f: impl FnOnce(T) -> U) -> Patch<Option<U>> {
    match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Set(None),
        MaybeUndefined::Value(v) => Patch::Set(Some(f(v))),
    }
}
