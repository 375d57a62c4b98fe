//! Checks of the text members type, shared by every kind of object: one message per rule,
//! naming the input field and the limits.

use std::ops::RangeInclusive;

use crate::error::{AppError, AppResult};

/// A one-line text (a title, a name): trimmed, no control characters, `chars` characters.
/// `what` names it in the message ("a title").
pub fn one_line(
    field: &str,
    what: &str,
    raw: &str,
    chars: &RangeInclusive<usize>,
) -> AppResult<String> {
    let text = raw.trim();
    if text.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            field,
            format!("{what} may not contain line breaks or other control characters"),
        ));
    }
    if !chars.contains(&text.chars().count()) {
        return Err(AppError::bad_input(
            field,
            format!("{what} has {} to {} characters", chars.start(), chars.end()),
        ));
    }
    Ok(text.to_owned())
}

/// A free text of at most `max` characters, trimmed (line breaks allowed).
pub fn description(raw: &str, max: usize) -> AppResult<String> {
    let description = raw.trim();
    if description.chars().count() > max {
        return Err(AppError::bad_input(
            "description",
            format!("a description has at most {max} characters"),
        ));
    }
    Ok(description.to_owned())
}
