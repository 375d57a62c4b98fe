//! Points on the earth (WGS 84, degrees), the distances between them, and the spatial index.
//!
//! # The spatial index
//!
//! Every place stores the H3 cell that holds it at resolution 11 (cells of about 2,000 m²)
//! as a plain indexed integer. All resolution-11 descendants of a coarser cell have numbers in
//! one contiguous range (their leading digits are the parent's), so "everything in this
//! coarse cell" is one range scan on that B-tree index, on SQLite and PostgreSQL alike.
//!
//! To find everything within `d` km of a point, [`cover`] picks a resolution whose cells are
//! about a third of `d` across, takes the smallest disk of cells around the point that
//! provably contains the whole circle, and returns one range per cell. The exact distance
//! then refines the candidates. H3 has no seam at the antimeridian and works at the poles.

use std::collections::HashSet;

use h3o::{CellIndex, LatLng, Resolution};

use crate::error::{AppError, AppResult};

/// The resolution stored with each place.
pub const INDEX_RESOLUTION: Resolution = Resolution::Eleven;

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

/// The number stored in the spatial index for a point (see the module documentation).
pub fn index_cell(point: &GeoPoint) -> i64 {
    u64::from(latlng(point).to_cell(INDEX_RESOLUTION)) as i64
}

fn latlng(point: &GeoPoint) -> LatLng {
    LatLng::new(point.lat, point.lng).expect("a GeoPoint is always a valid coordinate")
}

fn center(cell: CellIndex) -> GeoPoint {
    let c = LatLng::from(cell);
    GeoPoint {
        lat: c.lat(),
        lng: c.lng(),
    }
}

/// The farthest a point of `cell` can be from its centre, in km.
fn circumradius_km(cell: CellIndex) -> f64 {
    let c = LatLng::from(cell);
    cell.boundary()
        .iter()
        .map(|v| c.distance_km(*v))
        .fold(0.0, f64::max)
}

/// The range of index-resolution cell numbers under `cell`: its own digits, then all zeros
/// (the first descendant) or all sixes (past the last one; digits are 0–6).
fn descendant_range(cell: CellIndex) -> (i64, i64) {
    let raw = u64::from(cell);
    let res = u8::from(cell.resolution()) as u64;
    let target = u8::from(INDEX_RESOLUTION) as u64;
    // Resolution field: bits 52–55. Digit n (1..=15) occupies bits 3·(15−n) .. 3·(15−n)+2.
    let mut lo = (raw & !(0xF << 52)) | (target << 52);
    let mut hi = lo;
    for digit in (res + 1)..=target {
        let shift = 3 * (15 - digit);
        lo &= !(0b111 << shift);
        hi = (hi & !(0b111 << shift)) | (0b110 << shift);
    }
    (lo as i64, hi as i64)
}

/// Ranges of the spatial index that together hold every point within `radius_km` of
/// `center_point` (and some beyond, which the exact distance removes).
/// Cells about a third of the radius across keep the cover within a few times the
/// circle's area, in a few dozen ranges.
pub fn cover(center_point: &GeoPoint, radius_km: f64) -> Vec<(i64, i64)> {
    // Cells about a third of the radius across: a disk of two or three rings suffices.
    let resolution = (0..=u8::from(INDEX_RESOLUTION))
        .filter_map(|r| Resolution::try_from(r).ok())
        .find(|r| r.edge_length_km() <= radius_km / 3.0)
        .unwrap_or(INDEX_RESOLUTION);
    let origin = latlng(center_point).to_cell(resolution);
    let mut k = 1;
    let disk = loop {
        let disk: Vec<CellIndex> = origin.grid_disk(k);
        let inside: HashSet<CellIndex> = disk.iter().copied().collect();
        // Any path from the point to outside the disk crosses a cell of the next ring, so
        // the nearest such cell bounds how far the disk reaches.
        let reach = origin
            .grid_disk::<Vec<_>>(k + 1)
            .into_iter()
            .filter(|c| !inside.contains(c))
            .map(|c| center_point.distance_km(&center(c)) - circumradius_km(c))
            .fold(f64::INFINITY, f64::min);
        if reach >= radius_km || k >= 64 {
            break disk;
        }
        k += 1;
    };
    let mut ranges: Vec<(i64, i64)> = disk.into_iter().map(descendant_range).collect();
    ranges.sort_unstable();
    // Close ranges merge, which keeps the query short. Sibling cells are separated only by
    // numbers no cell has (the unused digit 7), so merging them reads nothing more; a gap
    // no wider than a range itself at most doubles what is read there.
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match merged.last_mut() {
            Some(last) if lo - last.1 <= hi - lo => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    merged
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

    fn covered(ranges: &[(i64, i64)], point: &GeoPoint) -> bool {
        let cell = index_cell(point);
        ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&cell))
    }

    /// A point `km` away from `from` on `bearing` degrees.
    fn destination(from: &GeoPoint, km: f64, bearing: f64) -> GeoPoint {
        let (lat1, lng1) = (from.lat.to_radians(), from.lng.to_radians());
        let (b, d) = (bearing.to_radians(), km / EARTH_RADIUS_KM);
        let lat2 = (lat1.sin() * d.cos() + lat1.cos() * d.sin() * b.cos()).asin();
        let lng2 = lng1 + (b.sin() * d.sin() * lat1.cos()).atan2(d.cos() - lat1.sin() * lat2.sin());
        let lng2 = (lng2.to_degrees() + 540.0) % 360.0 - 180.0;
        GeoPoint::new(lat2.to_degrees(), lng2).unwrap()
    }

    #[test]
    fn the_cover_holds_every_point_of_the_circle() {
        let centres = [
            GeoPoint::new(52.52, 13.405).unwrap(),  // Berlin
            GeoPoint::new(0.0, 179.95).unwrap(),    // at the antimeridian
            GeoPoint::new(-0.5, -179.99).unwrap(),  // just across it
            GeoPoint::new(89.9, 42.0).unwrap(),     // near the north pole
            GeoPoint::new(-89.95, -120.0).unwrap(), // near the south pole
            GeoPoint::new(64.7, 10.5).unwrap(),     // near an H3 pentagon
        ];
        for centre in centres {
            for radius in [0.3, 1.0, 5.0, 25.0, 100.0, 200.0] {
                let ranges = cover(&centre, radius);
                assert!(ranges.len() < 80, "{} ranges", ranges.len());
                for step in 0..72 {
                    for fraction in [0.0, 0.5, 0.99] {
                        let p = destination(&centre, radius * fraction, step as f64 * 5.0);
                        assert!(covered(&ranges, &p), "{centre:?} r={radius}: {p:?} missed");
                    }
                }
            }
        }
    }

    #[test]
    fn descendant_ranges_hold_their_children_only() {
        let berlin = latlng(&GeoPoint::new(52.52, 13.405).unwrap());
        let parent = berlin.to_cell(Resolution::Six);
        let (lo, hi) = descendant_range(parent);
        for child in parent.children(INDEX_RESOLUTION).step_by(97) {
            assert!((lo..=hi).contains(&(u64::from(child) as i64)));
        }
        let neighbour = parent.grid_ring::<Vec<_>>(1)[0];
        let (nlo, nhi) = descendant_range(neighbour);
        assert!(nhi < lo || nlo > hi);
    }
}
