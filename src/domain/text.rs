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

/// A message's text (a comment, an announcement, a private message): trimmed, 1 to `max`
/// characters, line breaks allowed. BAD_USER_INPUT naming `field` otherwise.
pub fn body(field: &str, raw: &str, max: usize) -> AppResult<String> {
    let trimmed = raw.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > max {
        return Err(AppError::bad_input(
            field,
            format!("1 to {max} characters, not counting spaces around them"),
        ));
    }
    Ok(trimmed.to_owned())
}
