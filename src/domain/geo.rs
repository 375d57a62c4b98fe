//! Points on the earth (WGS 84, degrees) and the distances between them.

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    lat: f64,
    lng: f64,
}

/// Mean earth radius (IUGG), in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

impl GeoPoint {
    /// A point with latitude in [-90, 90] and longitude in [-180, 180]; a broken rule names
    /// `lat` or `lng` (the caller prefixes the input path).
    pub fn new(lat: f64, lng: f64) -> AppResult<Self> {
        if !(-90.0..=90.0).contains(&lat) {
            return Err(AppError::bad_input(
                "lat",
                "latitude must be between -90 and 90",
            ));
        }
        if !(-180.0..=180.0).contains(&lng) {
            return Err(AppError::bad_input(
                "lng",
                "longitude must be between -180 and 180",
            ));
        }
        Ok(GeoPoint { lat, lng })
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn lng(&self) -> f64 {
        self.lng
    }

    /// Great-circle distance by the haversine formula, in kilometres.
    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lng - self.lng).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_out_of_range_coordinates() {
        assert!(
            matches!(GeoPoint::new(90.1, 0.0), Err(AppError::BadInput { field, .. }) if field == "lat")
        );
        assert!(
            matches!(GeoPoint::new(0.0, -180.5), Err(AppError::BadInput { field, .. }) if field == "lng")
        );
        assert!(matches!(
            GeoPoint::new(f64::NAN, 0.0),
            Err(AppError::BadInput { .. })
        ));
        assert!(GeoPoint::new(-90.0, 180.0).is_ok());
    }

    #[test]
    fn known_distances() {
        let berlin = GeoPoint::new(52.5200, 13.4050).unwrap();
        let potsdam = GeoPoint::new(52.3906, 13.0645).unwrap();
        let munich = GeoPoint::new(48.1351, 11.5820).unwrap();
        assert!((berlin.distance_km(&potsdam) - 27.0).abs() < 1.5);
        assert!((berlin.distance_km(&munich) - 504.0).abs() < 3.0);
        let east = GeoPoint::new(0.0, 179.95).unwrap();
        let west = GeoPoint::new(0.0, -179.95).unwrap();
        assert!(east.distance_km(&west) < 11.2);
    }
}
