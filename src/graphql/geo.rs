//! Places on the earth, as the contract shows them.

use async_graphql::{InputObject, SimpleObject};

/// A point on the earth: WGS 84 latitude and longitude in degrees.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct GeoPoint {
    /// Latitude in degrees, -90 to 90.
    pub lat: f64,
    /// Longitude in degrees, -180 to 180.
    pub lng: f64,
}

/// A point on the earth: WGS 84 latitude in [-90, 90] and longitude in [-180, 180], in degrees.
/// A coordinate out of range is BAD_USER_INPUT naming `lat` or `lng`.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct GeoPointInput {
    /// Latitude in degrees, -90 to 90.
    pub lat: f64,
    /// Longitude in degrees, -180 to 180.
    pub lng: f64,
}
