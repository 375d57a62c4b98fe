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

/// Where recommendations are ranked from: `near` when given (BAD_USER_INPUT under `near` when
/// out of range), else the member's home location, else nowhere.
pub fn ranking_place(
    near: Option<GeoPointInput>,
    viewer: &entity::user::Model,
) -> crate::error::AppResult<Option<crate::domain::geo::GeoPoint>> {
    use crate::domain::geo::GeoPoint as DomainPoint;
    Ok(match near {
        Some(p) => Some(DomainPoint::new(p.lat, p.lng).map_err(|e| e.under("near"))?),
        None => match (viewer.home_lat, viewer.home_lng) {
            (Some(lat), Some(lng)) => DomainPoint::new(lat, lng).ok(),
            _ => None,
        },
    })
}
