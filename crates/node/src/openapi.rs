//! The API's contract: `GET /openapi.json`, an OpenAPI 3.1 document generated from the code.
//!
//! Each handler carries its operation (`#[utoipa::path]`: path, parameters, body, every answer
//! with its status and the stable codes it can carry) and is registered with the router through
//! `utoipa_axum::routes!`, which takes the path from that same attribute: a route cannot exist
//! without its description, nor a description without its route. Bodies are the wire types of
//! `zkpool_types`, which derive their schemas beside their serde attributes. The answers shared
//! by many operations are the sets below.
//!
//! CI runs schemathesis against a real node with this document (`crates/cli/tests/openapi.rs`):
//! no generated input may get a 5xx, and every answer must match its schema.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use zkpool_types::api::ErrorBody;

/// The document's fixed part; the operations are added by the router (see `router`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "zkpool node",
        description = "A zero-knowledge prover pool. Requesters upload artifacts, get a signed \
quote and submit proving tasks; prover agents lease them, prove and upload proofs, which the node \
verifies before a task is done; settlement runs on the node's ledger or on the pool contract.\n\n\
Every call but the public ones (`/`, `/v1/dashboard`, `/healthz`, `/install.sh`, \
`/v1/agent/zkpool`, `/openapi.json`) needs an access key: `Authorization: Bearer <key>`. Each \
operation names the roles it accepts. Every refusal is a JSON `ErrorBody` with a stable `code` \
(listed with each answer) and a message for people; 429 and 503 carry `Retry-After`.\n\n\
Ids are integers on the wire (`42`); paths accept them with their prefix too (`t-42`, `p-42`, \
`l-42`, `k-42`). Amounts are base units (6 decimals) as decimal strings. Hashes are sha256 in \
lower-case hex."
    ),
    modifiers(&BearerKey),
    components(schemas(ErrorBody)),
    tags(
        (name = "requester", description = "Artifacts, tasks and proofs."),
        (name = "prover", description = "The agent's protocol: hello, lease, heartbeat, result."),
        (name = "settlement", description = "Quotes, escrow, claims, balances, rewards, epochs."),
        (name = "account", description = "Any key: who it is, and the pool's status as it may see it."),
        (name = "admin", description = "Keys, the ledger, metrics."),
        (name = "public", description = "No key needed: dashboard, installer, health."),
    )
)]
pub(crate) struct ApiDoc;

/// The bearer access key, required by every operation that lists `security`.
struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi
            .components
            .get_or_insert_with(utoipa::openapi::Components::new);
        components.add_security_scheme(
            "key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access key from `zkpool keys create` (admin), sent as \
                         `Authorization: Bearer <key>`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The refusals every operation with a key may get, added to each by [`complete`].
const KEYED: &[(&str, &str)] = &[
    (
        "401",
        "`missing_key`: no `Authorization` header; `malformed_key`: not `Bearer <key>`; \
         `unknown_key`: unknown or revoked",
    ),
    (
        "403",
        "`forbidden`: the key's role may not call this, or the thing belongs to another key",
    ),
    (
        "429",
        "`rate_limited`: the key's (or, without a valid key, the address's) request budget is \
         spent; `Retry-After` says when to retry",
    ),
    ("500", "`internal`: the node failed; its log has the detail"),
];

/// The refusals every public page may get (they are budgeted by address), added by
/// [`anonymous`].
const ANONYMOUS: &[(&str, &str)] = &[
    (
        "429",
        "`rate_limited`: the address's request budget is spent; `Retry-After` says when to retry",
    ),
    ("500", "`internal`: the node failed; its log has the detail"),
];

/// The refusals every operation with a JSON body may get, added to each by [`complete`].
const JSON_BODY: &[(&str, &str)] = &[
    ("400", "`bad_json`: the body is not JSON"),
    (
        "413",
        "`body_too_large`: larger than the node takes for a JSON body",
    ),
    (
        "415",
        "`bad_content_type`: not `Content-Type: application/json`",
    ),
    (
        "422",
        "`bad_json`: JSON of the wrong shape (a field missing or of the wrong type)",
    ),
];

/// The 400 of an operation that inspects a task (quotes, submissions).
pub(crate) const INSPECT_400: &str = "`unsupported_system`: the pool does not run that proof \
system; `bad_spec`: the artifacts named do not fit the system; `unplannable`: a split task \
cannot be cut into segments";

/// The 422 of an operation that inspects a task.
pub(crate) const INSPECT_422: &str = "`missing_artifact`: an artifact named is not stored \
(upload it first); `malformed_artifact`, `artifacts_mismatch`, `witness_unsatisfied`, \
`invalid_input`: the backend's checks refused the artifacts";

/// The 503 of an operation that inspects a task.
pub(crate) const INSPECT_503: &str = "`busy`: the node is checking as many tasks as it takes at \
once; retry after `Retry-After`";

/// The 400 and 404 of an operation on one of the caller's tasks.
pub(crate) const TASK_400: &str = "`bad_id`: `{id}` is not a task id";
/// [`TASK_400`], for the task read that takes a wait.
pub(crate) const TASK_WAIT_400: &str =
    "`bad_id`: `{id}` is not a task id; `bad_query`: `wait_ms` is not a number";
/// See [`TASK_400`].
pub(crate) const TASK_404: &str = "`not_found`: no such task, or another requester's (ids do \
not reveal other requesters' activity)";

/// Adds the shared refusals to every operation: [`KEYED`] to those that name the key, and
/// [`JSON_BODY`] to those that take JSON; where an operation has its own answer of the same
/// status, the descriptions are joined.
pub(crate) fn complete(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        // A HEAD answer has no body, its refusals included.
        let ops = [
            (&mut item.get, true),
            (&mut item.put, true),
            (&mut item.post, true),
            (&mut item.delete, true),
            (&mut item.patch, true),
            (&mut item.head, false),
        ];
        for (op, with_body) in ops {
            let Some(op) = op else { continue };
            let keyed = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let json = op
                .request_body
                .as_ref()
                .is_some_and(|b| b.content.contains_key("application/json"));
            let sets = [(keyed, KEYED), (json, JSON_BODY)];
            for (status, text) in sets
                .iter()
                .filter(|(on, _)| *on)
                .flat_map(|(_, s)| s.iter())
            {
                add_refusal(&mut op.responses, status, text, with_body);
            }
            if !with_body {
                for r in op.responses.responses.values_mut() {
                    if let utoipa::openapi::RefOr::T(r) = r {
                        r.content.clear();
                    }
                }
            }
        }
    }
}

/// Adds [`ANONYMOUS`] to every operation of the public pages' router.
pub(crate) fn anonymous(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in [&mut item.get, &mut item.head].into_iter().flatten() {
            for (status, text) in ANONYMOUS {
                add_refusal(&mut op.responses, status, text, true);
            }
        }
    }
}

/// Adds a refusal answer, or joins its description to the operation's own.
fn add_refusal(
    responses: &mut utoipa::openapi::Responses,
    status: &str,
    text: &str,
    with_body: bool,
) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    match responses.responses.get_mut(status) {
        Some(RefOr::T(own)) => {
            own.description = format!("{}; {text}", own.description);
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build();
            let mut response = ResponseBuilder::new().description(text);
            if with_body {
                response = response.content("application/json", content);
            }
            let response = response.build();
            responses
                .responses
                .insert(status.to_string(), RefOr::T(response));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_described_and_the_document_is_openapi_3_1() {
        let (keyed, public) = crate::routes();
        let (_, mut doc) = keyed.merge(public).split_for_parts();
        complete(&mut doc);
        let json = serde_json::to_value(&doc).unwrap();
        assert_eq!(json["openapi"], "3.1.0");
        let paths = json["paths"].as_object().unwrap();
        for p in [
            "/v1/tasks",
            "/v1/tasks/{id}",
            "/v1/leases/{id}/result",
            "/v1/blobs",
            "/v1/quotes",
            "/v1/epochs/close",
            "/metrics",
        ] {
            assert!(paths.contains_key(p), "{p} missing from the document");
        }
        // Every operation answers with its refusals in the error shape, and names its key.
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                assert!(
                    responses.keys().any(|s| s.starts_with('2')),
                    "{method} {path} has no success answer"
                );
                for (status, r) in responses {
                    if method != "head" && (status.starts_with('4') || status.starts_with('5')) {
                        assert_eq!(
                            r["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ErrorBody",
                            "{method} {path} {status} is not an ErrorBody"
                        );
                    }
                }
            }
        }
    }
}
