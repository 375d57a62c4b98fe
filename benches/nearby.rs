//! Nearby group search through the whole GraphQL path, over HTTP, at several data sizes.
//!
//! ```sh
//! cargo bench --bench nearby                                   # SQLite: 10k, 100k, 1M groups
//! cargo bench --bench nearby -- --postgres postgres://postgres@127.0.0.1:5432/test
//! cargo bench --bench nearby -- --sizes 10000,100000 --queries 200
//! ```
//!
//! Data comes from `kith::seed::synthetic` (seed 1; members = groups / 10) and is kept
//! between runs: SQLite files in `target/bench/`, PostgreSQL databases `kith_bench_<N>`.
//! Each size starts the real app on a random port; requests go one at a time (latency, not
//! throughput), centred in Berlin with a small deterministic jitter, `first: 20`.
//! Reported: p50 and p99 per size and radius, and the ratio of p50 at the largest size to
//! p50 at the smallest.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, Database, EntityTrait, PaginatorTrait};
use serde_json::json;

const RADII: [f64; 3] = [5.0, 25.0, 100.0];
const QUERY: &str = "query Nearby($near: GeoPointInput!, $r: Float!) { searchGroups(filter: { near: $near, radiusKm: $r }, first: 20) { edges { distanceKm node { id name city } } pageInfo { hasNextPage endCursor } } }";

struct Args {
    postgres: Option<String>,
    sizes: Vec<u64>,
    queries: usize,
}

fn args() -> Args {
    let mut args = Args {
        postgres: None,
        sizes: vec![10_000, 100_000, 1_000_000],
        queries: 300,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--postgres" => args.postgres = it.next(),
            "--sizes" => {
                args.sizes = it
                    .next()
                    .expect("--sizes N,N,...")
                    .split(',')
                    .map(|n| n.trim().parse().expect("a number"))
                    .collect()
            }
            "--queries" => {
                args.queries = it.next().expect("--queries N").parse().expect("a number")
            }
            _ => {} // cargo bench passes --bench
        }
    }
    args
}

async fn database_for(args: &Args, size: u64) -> String {
    match &args.postgres {
        None => {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench");
            std::fs::create_dir_all(dir).unwrap();
            format!("sqlite://{dir}/nearby-{size}.db?mode=rwc")
        }
        Some(base) => {
            let name = format!("kith_bench_{size}");
            let admin = Database::connect(base.as_str()).await.unwrap();
            let exists = admin
                .query_one_raw(sea_orm::Statement::from_string(
                    admin.get_database_backend(),
                    format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
                ))
                .await
                .unwrap()
                .is_some();
            if !exists {
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
            }
            let mut url = url::Url::parse(base).unwrap();
            url.set_path(&name);
            url.to_string()
        }
    }
}

/// Makes sure the database holds exactly `size` synthetic groups.
async fn prepare(url: &str, size: u64) {
    let db = kith::db::connect(url).await.unwrap();
    kith::db::migrate(&db).await.unwrap();
    let count = entity::group::Entity::find().count(&db).await.unwrap();
    if count == size {
        return;
    }
    assert_eq!(
        count, 0,
        "{url} holds {count} groups, not {size}: remove it and run again"
    );
    eprintln!("seeding {size} groups into {url} ...");
    let started = Instant::now();
    let options = kith::seed::synthetic::Options {
        groups: size,
        users: (size / 10).max(100),
        events: 0,
        seed: 1,
    };
    kith::seed::synthetic::run(&db, &options).await.unwrap();
    if url.starts_with("postgres") {
        db.execute_unprepared("ANALYZE").await.unwrap();
    }
    eprintln!("seeded {size} groups in {:.1?}", started.elapsed());
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args = args();
    let backend = if args.postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let mut p50s: HashMap<(u64, u64), f64> = HashMap::new();
    println!(
        "nearby search, {backend}, {} sequential requests per radius, first: 20",
        args.queries
    );
    println!(
        "{:>10} {:>8} {:>9} {:>9} {:>9}",
        "groups", "radius", "p50 ms", "p99 ms", "results"
    );
    for &size in &args.sizes {
        let url = database_for(&args, size).await;
        prepare(&url, size).await;
        let env: HashMap<&str, String> = HashMap::from([
            ("DATABASE_URL", url.clone()),
            ("KITH_ENV", "production".into()),
            (
                "KITH_JWT_SECRET",
                "benchmark secret, long enough for HS256 keys".into(),
            ),
        ]);
        let config = kith::config::Config::from_lookup(|k| env.get(k).cloned()).unwrap();
        let app = kith::start(config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}/graphql", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(kith::serve(app, listener, async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut request = |radius: f64| {
            let near = json!({ "lat": 52.52 + rng.random_range(-0.02..0.02), "lng": 13.405 + rng.random_range(-0.03..0.03) });
            client
                .post(&address)
                .json(&json!({ "query": QUERY, "variables": { "near": near, "r": radius } }))
                .send()
        };
        for _ in 0..30 {
            request(25.0).await.unwrap().bytes().await.unwrap();
        }
        for radius in RADII {
            let mut times = Vec::with_capacity(args.queries);
            let mut results = 0;
            for _ in 0..args.queries {
                let started = Instant::now();
                let body: serde_json::Value = request(radius).await.unwrap().json().await.unwrap();
                times.push(started.elapsed());
                assert!(body["errors"].is_null(), "{body}");
                results = body["data"]["searchGroups"]["edges"]
                    .as_array()
                    .unwrap()
                    .len();
            }
            times.sort();
            let p50 = ms(percentile(&times, 0.5));
            p50s.insert((size, radius as u64), p50);
            println!(
                "{size:>10} {radius:>6.0}km {p50:>9.2} {:>9.2} {results:>9}",
                ms(percentile(&times, 0.99))
            );
        }
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }
    if let (Some(small), Some(large)) = (args.sizes.first(), args.sizes.last()) {
        for radius in RADII {
            let r = radius as u64;
            println!(
                "p50 ratio {large}/{small} groups at {r} km: {:.2}",
                p50s[&(*large, r)] / p50s[&(*small, r)]
            );
        }
    }
}
