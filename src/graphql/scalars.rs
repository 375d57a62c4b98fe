//! The contract's own scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime, Datelike, SecondsFormat, Utc};

/// The years a time may fall in: far enough for any event, near enough that no calendar
/// arithmetic (a recurrence, a time zone, a check-in window) runs off the end of time.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2200;

/// A point in time, read and written as an RFC 3339 string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time(pub DateTime<Utc>);

/// A point in time, RFC 3339. Outputs always have one form: UTC, `Z`, milliseconds
/// (`2027-03-28T17:00:00.000Z`). Inputs take any RFC 3339 time, with any offset
/// (`2027-03-28T19:00:00+02:00`) and any fraction of a second, in the years 2000 to 2200.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://scalars.graphql.org/andimarek/date-time"
)]
impl ScalarType for Time {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(text) = &value else {
            return Err(InputValueError::expected_type(value));
        };
        let at = DateTime::parse_from_rfc3339(text.trim()).map_err(|_| {
            InputValueError::custom("not an RFC 3339 time such as 2027-03-28T17:00:00Z")
        })?;
        if !YEARS.contains(&at.year()) {
            return Err(InputValueError::custom(format!(
                "a time between the years {} and {}",
                YEARS.start(),
                YEARS.end()
            )));
        }
        Ok(Time(at.with_timezone(&Utc)))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl From<DateTime<Utc>> for Time {
    fn from(at: DateTime<Utc>) -> Self {
        Time(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_outside_the_years_are_refused() {
        let ok = Time::parse(Value::from("2027-03-28T19:00:00.123456+02:00")).unwrap();
        assert_eq!(ok.to_value(), Value::from("2027-03-28T17:00:00.123Z"));
        let whole = Time::parse(Value::from("2027-03-28T17:00:00Z")).unwrap();
        assert_eq!(whole.to_value(), Value::from("2027-03-28T17:00:00.000Z"));
        for bad in [
            "9999-12-31T23:59:59Z",
            "1999-12-31T23:59:59Z",
            "+262143-01-01T00:00:00Z",
            "tomorrow",
        ] {
            assert!(Time::parse(Value::from(bad)).is_err(), "{bad}");
        }
        assert!(Time::parse(Value::from(5)).is_err());
    }
}
