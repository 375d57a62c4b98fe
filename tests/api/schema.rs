//! The contract: `schema.graphql` is what the server exports, and it is documented.

use std::process::Command;

use serde_json::json;

use crate::helpers::*;

#[test]
fn schema_graphql_is_what_kith_print_schema_prints() {
    let output = Command::new(env!("CARGO_BIN_EXE_kith"))
        .arg("print-schema")
        .output()
        .expect("kith runs");
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql exists");
    if printed != file {
        let diff: Vec<String> = printed
            .lines()
            .zip(file.lines().chain(std::iter::repeat("<end of file>")))
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(10)
            .map(|(i, (a, b))| {
                format!(
                    "line {}:\n  kith print-schema: {a}\n  schema.graphql:    {b}",
                    i + 1
                )
            })
            .collect();
        panic!(
            "schema.graphql differs from `kith print-schema` ({} vs {} lines). Run \
             `cargo run -- print-schema > schema.graphql` if the change is deliberate.\n{}",
            printed.lines().count(),
            file.lines().count(),
            diff.join("\n")
        );
    }
}

#[tokio::test]
async fn every_type_and_field_is_described() {
    let app = spawn_app().await;
    let body = app
        .graphql(
            None,
            "{ __schema { types { name kind description fields { name description } inputFields { name description } enumValues { name description } } } }",
            json!({}),
        )
        .await;
    let mut missing = Vec::new();
    for ty in body["data"]["__schema"]["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") || ["String", "Boolean", "Int", "Float", "ID"].contains(&name) {
            continue;
        }
        if ty["description"].as_str().unwrap_or("").is_empty() {
            missing.push(name.to_owned());
        }
        for list in ["fields", "inputFields", "enumValues"] {
            for field in ty[list].as_array().into_iter().flatten() {
                if field["description"].as_str().unwrap_or("").is_empty() {
                    missing.push(format!("{name}.{}", field["name"].as_str().unwrap()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:?}");
}
