//! Data for newcomers (`kith seed --demo`) and for benchmarks (`kith seed --synthetic`).

pub mod demo;
pub mod synthetic;

/// Cities the seeds place groups in: name, latitude, longitude, IANA zone, and a weight
/// (how much of the synthetic data lands there).
pub const CITIES: &[(&str, f64, f64, &str, u32)] = &[
    ("Berlin", 52.5200, 13.4050, "Europe/Berlin", 40),
    ("London", 51.5074, -0.1278, "Europe/London", 40),
    ("Paris", 48.8566, 2.3522, "Europe/Paris", 30),
    ("New York", 40.7128, -74.0060, "America/New_York", 40),
    (
        "San Francisco",
        37.7749,
        -122.4194,
        "America/Los_Angeles",
        20,
    ),
    ("Tokyo", 35.6762, 139.6503, "Asia/Tokyo", 40),
    ("São Paulo", -23.5505, -46.6333, "America/Sao_Paulo", 30),
    ("Lagos", 6.5244, 3.3792, "Africa/Lagos", 20),
    ("Mumbai", 19.0760, 72.8777, "Asia/Kolkata", 30),
    ("Sydney", -33.8688, 151.2093, "Australia/Sydney", 15),
    ("Munich", 48.1351, 11.5820, "Europe/Berlin", 12),
    ("Hamburg", 53.5511, 9.9937, "Europe/Berlin", 12),
    ("Madrid", 40.4168, -3.7038, "Europe/Madrid", 20),
    ("Rome", 41.9028, 12.4964, "Europe/Rome", 15),
    ("Stockholm", 59.3293, 18.0686, "Europe/Stockholm", 8),
    ("Warsaw", 52.2297, 21.0122, "Europe/Warsaw", 10),
    ("Istanbul", 41.0082, 28.9784, "Europe/Istanbul", 25),
    ("Cairo", 30.0444, 31.2357, "Africa/Cairo", 20),
    ("Nairobi", -1.2921, 36.8219, "Africa/Nairobi", 10),
    ("Cape Town", -33.9249, 18.4241, "Africa/Johannesburg", 8),
    ("Toronto", 43.6532, -79.3832, "America/Toronto", 15),
    ("Mexico City", 19.4326, -99.1332, "America/Mexico_City", 25),
    (
        "Buenos Aires",
        -34.6037,
        -58.3816,
        "America/Argentina/Buenos_Aires",
        15,
    ),
    ("Seoul", 37.5665, 126.9780, "Asia/Seoul", 25),
    ("Singapore", 1.3521, 103.8198, "Asia/Singapore", 15),
    ("Jakarta", -6.2088, 106.8456, "Asia/Jakarta", 20),
    ("Auckland", -36.8485, 174.7633, "Pacific/Auckland", 5),
    ("Suva", -18.1416, 178.4419, "Pacific/Fiji", 2),
    ("Reykjavík", 64.1466, -21.9426, "Atlantic/Reykjavik", 2),
    ("Anchorage", 61.2181, -149.9003, "America/Anchorage", 2),
];
