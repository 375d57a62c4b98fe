//! IANA time zones.

use crate::error::{AppError, AppResult};

/// Checks that `name` is a real IANA zone (`Europe/Berlin`) and returns it as stored.
pub fn parse_time_zone(field: &str, name: &str) -> AppResult<chrono_tz::Tz> {
    name.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        AppError::bad_input(
            field,
            format!("`{name}` is not an IANA time zone such as Europe/Berlin"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_iana_names_only() {
        assert_eq!(
            parse_time_zone("timeZone", "Europe/Berlin").unwrap().name(),
            "Europe/Berlin"
        );
        assert!(parse_time_zone("timeZone", "Mars/Olympus").is_err());
        assert!(parse_time_zone("timeZone", "").is_err());
    }
}
