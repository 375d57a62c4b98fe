//! Places on the globe and distances between them.

/// Berlin, where most test groups meet.
pub const BERLIN: (f64, f64) = (52.5200, 13.4050);

/// Great-circle distance by the haversine formula, mean earth radius, in km.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = 6371.0088;
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let dp = p2 - p1;
    let dl = (b.1 - a.1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

/// The point `km` due north of `(lat, lng)` along its meridian (south when `km` < 0).
pub fn north_of(lat: f64, lng: f64, km: f64) -> (f64, f64) {
    (lat + km / (6371.0088 * std::f64::consts::PI / 180.0), lng)
}
