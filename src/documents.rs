//! Which GraphQL document a request runs: automatic persisted queries (Apollo's protocol)
//! and trusted documents (an Apollo persisted query manifest, `KITH_TRUSTED_DOCUMENTS`).
//!
//! Resolved in the HTTP handler, before anything else looks at the document, so the
//! handler's own checks (`limits::check_request`, the GET-runs-queries-only rule, the
//! operation's name for the metrics) see the real document whichever way it came. That
//! is why this is not async-graphql's `apollo_persisted_queries` extension: it swaps the
//! document in only inside `Schema::execute`, after those checks.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The only `persistedQuery.version` of Apollo's protocol.
const VERSION: u64 = 1;
/// Documents kept per process for automatic persisted queries; a client that misses one
/// sends it again, so the bound costs a round trip, never an answer.
pub const APQ_ENTRIES: usize = 4096;
/// Bytes of documents kept at most, whatever their number.
pub const APQ_BYTES: usize = 16 * 1024 * 1024;

/// The message of a hash the server does not know, as Apollo's clients expect it.
pub const NOT_FOUND_MESSAGE: &str = "PersistedQueryNotFound";

/// The lowercase hex SHA-256 of a document: its id in both protocols.
pub fn sha256_hex(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

/// Why a request's document cannot run.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No `query` and no persisted query: nothing to run.
    Missing,
    /// A hash this server does not have (or, with trusted documents, a document not listed).
    NotFound,
    /// A malformed `persistedQuery`, or a `query` whose hash is not the one sent with it.
    BadInput(String),
}

/// The operations of an Apollo persisted query manifest, by id.
#[derive(Clone)]
pub struct TrustedDocuments {
    /// Where the manifest was read from, for the log and `Debug`.
    pub path: PathBuf,
    by_id: Arc<HashMap<String, Arc<str>>>,
    /// The SHA-256 of every listed body, so a client that sends the whole document (and
    /// no hash) runs it too when it is listed.
    body_hashes: Arc<HashSet<String>>,
}

#[derive(Deserialize)]
struct Manifest {
    format: String,
    version: u64,
    operations: Vec<ManifestOperation>,
}

/// One operation of the manifest; its `name` and `type` admit nothing, so are not read.
#[derive(Deserialize)]
struct ManifestOperation {
    id: String,
    body: String,
}

impl TrustedDocuments {
    /// Reads and checks a manifest; the error says what is wrong with it, for start-up.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(path, &text)
    }

    fn parse(path: &Path, text: &str) -> Result<Self, String> {
        let manifest: Manifest = serde_json::from_str(text).map_err(|e| {
            format!(
                "{} is not an Apollo persisted query manifest: {e}",
                path.display()
            )
        })?;
        if manifest.format != "apollo-persisted-query-manifest" || manifest.version != 1 {
            return Err(format!(
                "{}: expected \"format\": \"apollo-persisted-query-manifest\" and \"version\": 1",
                path.display()
            ));
        }
        let mut by_id = HashMap::new();
        let mut body_hashes = HashSet::new();
        for operation in manifest.operations {
            if operation.id.is_empty() || operation.body.trim().is_empty() {
                return Err(format!(
                    "{}: every operation needs an id and a body",
                    path.display()
                ));
            }
            if let Err(e) = async_graphql::parser::parse_query(&operation.body) {
                return Err(format!(
                    "{}: operation {} does not parse: {e}",
                    path.display(),
                    operation.id
                ));
            }
            body_hashes.insert(sha256_hex(&operation.body));
            if by_id
                .insert(operation.id.to_ascii_lowercase(), operation.body.into())
                .is_some()
            {
                return Err(format!(
                    "{}: operation id {} is listed twice",
                    path.display(),
                    operation.id
                ));
            }
        }
        Ok(TrustedDocuments {
            path: path.to_owned(),
            by_id: Arc::new(by_id),
            body_hashes: Arc::new(body_hashes),
        })
    }

    /// How many operations are listed.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    fn admits(&self, hash: &str) -> bool {
        self.by_id.contains_key(hash) || self.body_hashes.contains(hash)
    }
}

impl std::fmt::Debug for TrustedDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedDocuments")
            .field("path", &self.path)
            .field("operations", &self.by_id.len())
            .finish()
    }
}

/// Parsed documents kept per process, by their text: apps send the same few documents again
/// and again, and parsing one was a tenth of the server's CPU for `event(id:)`. A miss only
/// costs a parse.
pub const PARSED_ENTRIES: usize = 256;
/// Longer documents are parsed every time.
pub const PARSED_MAX_BYTES: usize = 4096;
/// Bytes of document text whose parsed form is kept, whatever their number. A parsed
/// document takes up to about a hundred times its text (`{ a a a ... }`: a node of some
/// 200 bytes per two characters), so this keeps the cache to a few tens of MiB even when
/// every document is made to be large.
pub const PARSED_BYTES: usize = 256 * 1024;

/// The per-process store of automatic persisted queries, or the trusted documents; and the
/// parsed form of documents run lately.
pub struct Documents {
    trusted: Option<TrustedDocuments>,
    apq: Mutex<Apq>,
    parsed: Mutex<Parsed>,
}

struct Apq {
    documents: LruCache<String, Arc<str>>,
    bytes: usize,
}

struct Parsed {
    documents: LruCache<Arc<str>, Arc<ExecutableDocument>>,
    /// Bytes of the texts kept.
    bytes: usize,
}

impl Documents {
    pub fn new(trusted: Option<TrustedDocuments>) -> Self {
        Documents {
            trusted,
            apq: Mutex::new(Apq {
                documents: LruCache::new(NonZeroUsize::new(APQ_ENTRIES).expect("not zero")),
                bytes: 0,
            }),
            parsed: Mutex::new(Parsed {
                documents: LruCache::new(NonZeroUsize::new(PARSED_ENTRIES).expect("not zero")),
                bytes: 0,
            }),
        }
    }

    /// The document parsed, as parsed when it last ran; None when it was not kept.
    pub fn parsed(&self, document: &str) -> Option<ExecutableDocument> {
        let kept = self
            .parsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .documents
            .get(document)
            .cloned()?;
        // Cloned outside the lock: the request gets a document of its own to run.
        Some(ExecutableDocument::clone(&kept))
    }

    /// Keeps a document's parsed form for its next run (when it is short enough).
    pub fn keep_parsed(&self, document: &Arc<str>, parsed: &ExecutableDocument) {
        if document.len() > PARSED_MAX_BYTES {
            return;
        }
        let parsed = Arc::new(parsed.clone());
        let mut kept = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        if kept.documents.contains(document) {
            return;
        }
        kept.bytes += document.len();
        if let Some((evicted, _)) = kept.documents.push(document.clone(), parsed) {
            kept.bytes -= evicted.len();
        }
        while kept.bytes > PARSED_BYTES {
            match kept.documents.pop_lru() {
                Some((evicted, _)) => kept.bytes -= evicted.len(),
                None => break,
            }
        }
    }

    /// The document to run, from a request's `query` (empty when absent) and
    /// `extensions.persistedQuery` (if any).
    pub fn resolve(
        &self,
        query: &str,
        persisted: Option<&serde_json::Value>,
    ) -> Result<Arc<str>, Refusal> {
        let hash = persisted.map(persisted_hash).transpose()?;
        let query = (!query.trim().is_empty()).then_some(query);
        if let (Some(query), Some(hash)) = (query, &hash)
            && sha256_hex(query) != *hash
        {
            return Err(Refusal::BadInput(
                "the persistedQuery sha256Hash is not the SHA-256 of the query".into(),
            ));
        }
        match (&self.trusted, query, hash) {
            (_, None, None) => Err(Refusal::Missing),
            (Some(trusted), Some(query), hash) => {
                let hash = hash.unwrap_or_else(|| sha256_hex(query));
                if trusted.admits(&hash) {
                    Ok(query.into())
                } else {
                    Err(Refusal::NotFound)
                }
            }
            (Some(trusted), None, Some(hash)) => {
                trusted.by_id.get(&hash).cloned().ok_or(Refusal::NotFound)
            }
            (None, Some(query), None) => Ok(query.into()),
            (None, Some(query), Some(hash)) => {
                let document: Arc<str> = query.into();
                // Only what parses is worth keeping; the rest is refused when it runs.
                if async_graphql::parser::parse_query(query).is_ok() {
                    self.keep(hash, document.clone());
                }
                Ok(document)
            }
            (None, None, Some(hash)) => {
                let mut apq = self.apq.lock().unwrap_or_else(|e| e.into_inner());
                apq.documents.get(&hash).cloned().ok_or(Refusal::NotFound)
            }
        }
    }

    fn keep(&self, hash: String, document: Arc<str>) {
        if document.len() > APQ_BYTES {
            return;
        }
        let mut apq = self.apq.lock().unwrap_or_else(|e| e.into_inner());
        if apq.documents.contains(&hash) {
            apq.documents.promote(&hash);
            return;
        }
        apq.bytes += document.len();
        if let Some((_, evicted)) = apq.documents.push(hash, document) {
            apq.bytes -= evicted.len();
        }
        while apq.bytes > APQ_BYTES {
            match apq.documents.pop_lru() {
                Some((_, evicted)) => apq.bytes -= evicted.len(),
                None => break,
            }
        }
    }
}

/// The `sha256Hash` of `extensions.persistedQuery`, lowercase, once its form is checked.
fn persisted_hash(value: &serde_json::Value) -> Result<String, Refusal> {
    let version = value.get("version").and_then(serde_json::Value::as_u64);
    if version != Some(VERSION) {
        return Err(Refusal::BadInput(
            "extensions.persistedQuery.version must be 1".into(),
        ));
    }
    value
        .get("sha256Hash")
        .and_then(serde_json::Value::as_str)
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| {
            Refusal::BadInput(
                "extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits".into(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pq(document: &str) -> serde_json::Value {
        json!({"version": 1, "sha256Hash": sha256_hex(document)})
    }

    #[test]
    fn a_parsed_document_is_kept_by_its_text_and_a_long_one_is_not() {
        let documents = Documents::new(None);
        let text: Arc<str> = "query Point($id: ID!) { event(id: $id) { title } }".into();
        assert!(documents.parsed(&text).is_none());
        let parsed = async_graphql::parser::parse_query(&*text).unwrap();
        documents.keep_parsed(&text, &parsed);
        let kept = documents.parsed(&text).expect("kept");
        assert_eq!(format!("{kept:?}"), format!("{parsed:?}"));
        // Another text, even one differing only in a name, is another document.
        assert!(
            documents
                .parsed("query Other($id: ID!) { event(id: $id) { title } }")
                .is_none()
        );

        let long: Arc<str> = format!("{{ __typename {} }}", " ".repeat(PARSED_MAX_BYTES)).into();
        let parsed = async_graphql::parser::parse_query(&*long).unwrap();
        documents.keep_parsed(&long, &parsed);
        assert!(documents.parsed(&long).is_none());

        // However many are sent, the texts kept stay within PARSED_BYTES: the oldest go.
        let texts: Vec<Arc<str>> = (0..200)
            .map(|i| format!("{{ f{i} {} }}", "a ".repeat(1500)).into())
            .collect();
        for text in &texts {
            documents.keep_parsed(text, &async_graphql::parser::parse_query(&**text).unwrap());
        }
        let kept = documents.parsed.lock().unwrap();
        assert!(kept.bytes <= PARSED_BYTES, "{} bytes kept", kept.bytes);
        assert_eq!(
            kept.bytes,
            kept.documents
                .iter()
                .map(|(text, _)| text.len())
                .sum::<usize>()
        );
        assert!(kept.documents.contains(texts.last().unwrap()));
        assert!(!kept.documents.contains(&texts[0]));
    }

    #[test]
    fn automatic_persisted_queries_register_hit_and_miss() {
        let documents = Documents::new(None);
        let query = "{ __typename }";
        assert_eq!(
            documents.resolve("", Some(&pq(query))),
            Err(Refusal::NotFound)
        );
        assert_eq!(&*documents.resolve(query, Some(&pq(query))).unwrap(), query);
        assert_eq!(&*documents.resolve("", Some(&pq(query))).unwrap(), query);
        assert!(matches!(
            documents.resolve("{ other }", Some(&pq(query))),
            Err(Refusal::BadInput(_))
        ));
        assert_eq!(documents.resolve("  ", None), Err(Refusal::Missing));
    }

    #[test]
    fn the_store_is_bounded_by_bytes() {
        let documents = Documents::new(None);
        let big = format!("{{ __typename }} #{}", "x".repeat(APQ_BYTES / 2));
        let other = format!("{{ __typename }} #{}", "y".repeat(APQ_BYTES / 2));
        documents.resolve(&big, Some(&pq(&big))).unwrap();
        documents.resolve(&other, Some(&pq(&other))).unwrap();
        assert_eq!(
            documents.resolve("", Some(&pq(&big))),
            Err(Refusal::NotFound)
        );
        assert!(documents.resolve("", Some(&pq(&other))).is_ok());
        assert!(documents.apq.lock().unwrap().bytes <= APQ_BYTES);
    }

    #[test]
    fn trusted_documents_admit_only_what_is_listed() {
        let listed = "query Listed { __typename }";
        let manifest = json!({
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [{"id": sha256_hex(listed), "name": "Listed", "type": "query", "body": listed}]
        });
        let trusted = TrustedDocuments::parse(Path::new("m.json"), &manifest.to_string()).unwrap();
        let documents = Documents::new(Some(trusted));
        assert_eq!(&*documents.resolve("", Some(&pq(listed))).unwrap(), listed);
        assert_eq!(&*documents.resolve(listed, None).unwrap(), listed);
        let other = "query Other { __typename }";
        assert_eq!(documents.resolve(other, None), Err(Refusal::NotFound));
        assert_eq!(
            documents.resolve(other, Some(&pq(other))),
            Err(Refusal::NotFound)
        );
        assert_eq!(
            documents.resolve("", Some(&pq(other))),
            Err(Refusal::NotFound)
        );
    }

    #[test]
    fn a_bad_manifest_says_why() {
        for text in [
            "not json",
            r#"{"format": "other", "version": 1, "operations": []}"#,
            r#"{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": "a", "body": "{ nope"}]}"#,
        ] {
            let err = TrustedDocuments::parse(Path::new("m.json"), text).unwrap_err();
            assert!(err.contains("m.json"), "{err}");
        }
    }
}
